// Changing the partition policy: officers see the current and proposed policy side by side, in
// words, with the risk of each change and the digest of the exact change; the SO quorum and the
// approvals the current policy asks for (approvals.policy) log the SO in; the new version is signed
// with the rotation key of the SO set's generation (only its quorum can), written to the partition
// (an unmodifiable, undestroyable public object, one per version) and the database, and recorded.
// See policy/policy-record.ts for why a version is believed.
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult, PolicyChangeReport } from '../../shared/types';
import { TesseraError } from '../errors';
import { type PolicyChange, applyChanges, changeDigest, checkChanges, sideBySide } from '../policy/policy';
import { POLICY_LABEL, type PolicyRecord, recordHash, recordProblem, signRecord, soRotationKeys } from '../policy/policy-record';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { loginSoWithQuorum, precheckSoLogin } from './so-login';
import { approvalsFor, approversOf } from './steps/approvals';
import { briefing } from './steps/confirm';
import { IntentSteps } from './steps/intent';

export const POLICY_INTENT = 'policy-set';
const STEP = { compare: 0, approvals: 1, record: 2 } as const;

/** Before anything is asked: the SO card set exists and has a rotation key to sign with; the changes are well-formed. */
export function precheckPolicyChange(ctx: CeremonyContext, start: CeremonyStartOf<'policy-set'>): void {
  const d = ctx.trust('so')?.descriptor ?? null;
  if (!ctx.trust('so')) throw new TesseraError('INVALID_REQUEST', 'This partition has no SO card set: the policy is changed under an SO quorum. Adopt the partition first (Cards).');
  if (d && !d.rotationKey) throw new TesseraError('INVALID_REQUEST', 'The SO card set of this partition predates rotation keys, with which a policy is signed. Rotate the SO credential first (Credentials).');
  checkChanges(start.changes as PolicyChange[], d ? { m: d.m, n: d.n } : null);
  // The SO logs in with the approvers' cards: nothing is asked of them when that cannot work.
  precheckSoLogin(ctx);
}

/**
 * The policy change ceremony.
 * @throws TesseraError INVALID_REQUEST (nothing would change; bad values); what loginSoWithQuorum
 *   throws; HSM_ERROR when the partition refuses the record; CeremonyCancelled.
 */
export async function changePolicy(run: CeremonyRun, ctx: CeremonyContext, start: CeremonyStartOf<'policy-set'>, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'policy-set' }>> {
  const token = ctx.partition.partition();
  run.stepTo(STEP.compare);
  const current = ctx.policy.state();
  const d = ctx.trust('so')?.descriptor ?? null;
  const set = d ? { m: d.m, n: d.n } : null;
  const changes = checkChanges(start.changes as PolicyChange[], set);
  const proposed = applyChanges(current.policy, changes);
  const lines = sideBySide(current.policy, proposed, set);
  const changed = lines.filter((l) => l.changed);
  if (changed.length === 0) throw new TesseraError('INVALID_REQUEST', 'The proposed policy is the one in force: nothing would change.');
  const digest = changeDigest({ partition: token.serial, from: current.version, policy: proposed });
  run.show({ kind: 'policy-change', lines, digest });
  const count = approvalsFor(ctx, 'policy');
  await briefing(
    run,
    [
      `Change the partition policy of “${token.label}” (serial ${token.serial}) from version ${current.version}${current.version === 0 ? ' (the defaults)' : ''} to version ${current.version + 1}:`,
      ...changed.map((l) => `  ${l.title}: ${l.current} → ${l.proposed}. ${l.risk ?? ''}`),
      `Digest of this change: ${digest}.`,
      `Approvals needed: ${count} holders of the SO card set (the current policy's approvals.policy), each with their card; the SO logs in with them.`,
      ...current.problems.map((p) => `Note: ${p}`),
    ].join('\n'),
  );

  run.stepTo(STEP.approvals);
  const login = await loginSoWithQuorum(run, ctx, { ...options, loginStep: STEP.record, keepSecret: true, count, of: ` to approve the policy change (digest ${digest})` });
  const secret = login.secret as Buffer;
  try {
    run.stepTo(STEP.record);
    const approvers = approversOf(login);
    const record: PolicyRecord = signRecord(
      { format: 'tessera-policy-v1', partition: token.serial, version: current.version + 1, policy: proposed, previous: current.record ? recordHash(current.record) : null, signer: { set: login.descriptor.set, generation: login.descriptor.generation }, approvers, at: new Date().toISOString() },
      secret,
    );
    const problem = recordProblem(record, token.serial, soRotationKeys(ctx.partition));
    if (problem) throw new TesseraError('CARD_ERROR', `The new policy could not be signed so that the partition vouches for it (${problem}). Nothing was changed.`);
    const intent = new IntentSteps(ctx.intents, POLICY_INTENT, 'writing', { partition: token.serial, record });
    try {
      run.working('Recording the policy on the partition…');
      const protection = intent.hsm('write', 'writing', 'written', () => ctx.partition.writeDataObject(POLICY_LABEL, Buffer.from(JSON.stringify(record))));
      run.wrote(`Version ${record.version} of the partition policy is in force.`);
      ctx.policies.save(record);
      const words = changed.map((l) => ({ name: l.name, from: l.current, to: l.proposed }));
      await ctx.audit.append({
        actor: ctx.actor,
        action: 'policy.set',
        target: `${token.label} (serial ${token.serial})`,
        outcome: 'ok',
        details: { version: record.version, changes: words.map((w) => `${w.name}: ${w.from} → ${w.to}`).join('; '), digest, approvers: approvers.map((a) => a.holder).join(', '), cards: approvers.map((a) => a.card).join(', '), protection: protection.modifiable || protection.destroyable ? 'the partition left it modifiable or destroyable' : 'unmodifiable, undestroyable' },
      });
      intent.finish('done');
      const report: PolicyChangeReport = { partition: { label: token.label, serial: token.serial }, from: current.version, version: record.version, digest, changes: words, approvers };
      return { kind: 'policy-set', report };
    } catch (error) {
      if (!intent.finished && intent.step === 'writing') intent.finish('failed');
      throw error;
    }
  } finally {
    wipe(secret);
    if (ctx.partition.soLoggedIn) ctx.partition.logoutSo();
  }
}

/** At start: a policy change a crash interrupted. Its signed record proves itself: written or not, the partition tells. */
export async function recoverPolicyChanges(ctx: CeremonyContext): Promise<string[]> {
  const said: string[] = [];
  for (const intent of ctx.intents.unfinished<{ partition: string; record: PolicyRecord }>(POLICY_INTENT)) {
    ctx.intents.finish(intent, 'interrupted');
    said.push(
      intent.step === 'written'
        ? `A change of the partition policy (version ${intent.data.record.version}) of the partition with serial ${intent.data.partition} was interrupted after it was written to the partition: it is in force, and recorded when the partition is next opened.`
        : `A change of the partition policy (version ${intent.data.record.version}) of the partition with serial ${intent.data.partition} was interrupted while it was written: if the partition holds it, it is in force (Policy shows which version is); otherwise change the policy again.`,
    );
    await ctx.audit.append({ actor: ctx.actor, action: 'policy.set.recover', target: intent.data.partition, outcome: 'ok', details: { version: intent.data.record.version, step: intent.step } });
  }
  return said;
}
