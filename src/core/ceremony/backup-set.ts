// Creating the partition's backup key set: a backup-signing key generated in the partition, and an
// escrow key whose private half is split m-of-n onto officers' cards (the cards' second set slot;
// cards that have a PIN keep it, blank cards get one). Making a backup then needs only the escrow
// key's public half; reading or restoring one needs m of these cards. The set becomes the
// partition's only once every card is written and read back; each step is in the intent log.
import { randomBytes } from 'node:crypto';
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult } from '../../shared/types';
import { escrowPublic, fingerprint, newEscrowKey } from '../backup/escrow';
import { createSigningKey, signingKeyHandles } from '../backup/signing-key';
import { TesseraError } from '../errors';
import { protectionWords } from '../partition/anchor';
import { newDescriptor, splitSecret } from '../quorum/card-set';
import { type EnrolIntent, firstAnchor } from '../quorum/trust';
import { wipe } from '../secrets';
import { checkHolders } from './adopt';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { abandonUnfinished, beginEnrolment, enrolSetCards, enrolmentRecord } from './steps/enrol';
import type { IntentSteps } from './steps/intent';

type Params = Pick<CeremonyStartOf<'backup-set'>, 'holders' | 'threshold'>;

/** Before anything is generated: valid holders, and no backup key set yet. */
export function precheckBackupSet(ctx: CeremonyContext, params: Params): void {
  checkHolders(params);
  // The set's backup-signing key is a new key in the partition.
  ctx.policy.refuse('create-key');
  if (ctx.trust('backup') || ctx.partition.anchors('backup').length > 0) throw new TesseraError('INVALID_REQUEST', 'This partition has a backup key set already. Its backups are read with those cards.');
}

export async function createBackupSet(run: CeremonyRun, ctx: CeremonyContext, params: Params, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'backup-set' }>> {
  const { partition, audit, store } = ctx;
  const holders = params.holders.map((h) => h.trim());
  const n = holders.length;
  const m = params.threshold;
  const token = partition.partition();
  const target = `${token.label} (serial ${token.serial})`;
  const session = partition.coSession();
  let escrow: Buffer | null = null;
  let shares: Buffer[] = [];
  let intent: IntentSteps<EnrolIntent> | null = null;
  let signingKeyId: string | null = null;
  let anchored = false;
  try {
    run.working('Generating the backup-signing key in the partition…');
    // Keys left by a creation that never completed are not anybody's: they go first.
    for (const orphan of signingKeyHandles(session)) session.destroyObject(orphan.handle);
    signingKeyId = randomBytes(16).toString('hex');
    const signingKey = createSigningKey(session, signingKeyId);
    const random = partition.random(32);
    escrow = newEscrowKey(random);
    wipe(random);
    shares = await splitSecret(escrow, m, n);
    const descriptor = newDescriptor('backup', token, holders, m, shares, escrow, { escrowPublic: escrowPublic(escrow).toString('base64'), signingKey: signingKey.toString('base64'), signingKeyId });
    const set = descriptor.set;
    await audit.append({ actor: ctx.actor, action: 'backupset.create.start', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', '), signer: fingerprint(signingKey) } });
    intent = beginEnrolment(ctx, descriptor);
    const steps = intent;

    run.stepTo(1);
    const written = await enrolSetCards(run, ctx, steps, shares, options, (index, total, holder) => `Card ${index} of ${total}: ${holder}, insert your card.`);

    run.working('Recording the backup key set…');
    anchored = true;
    const anchor = partition.writeAnchor('backup', firstAnchor(descriptor));
    steps.advance('anchored', steps.data, 'after-anchor');
    store.save(descriptor, 'active', written);
    steps.finish('done');
    run.settledWrites();

    const record = enrolmentRecord(descriptor, written);
    await audit.append({ actor: ctx.actor, action: 'backupset.create', target, outcome: 'ok', details: { set, m, n, cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', '), signer: fingerprint(signingKey), escrow: fingerprint(Buffer.from(descriptor.backup?.escrowPublic ?? '', 'base64')), setFingerprint: record.fingerprint ?? '', anchor: protectionWords(anchor) } });
    return { kind: 'backup-set', record };
  } finally {
    for (const share of shares) wipe(share);
    wipe(escrow);
    abandonUnfinished(run, ctx, intent);
    // Stopped before the set was recorded on the partition: its signing key is nobody's ("nothing was changed" must hold).
    if (!anchored && signingKeyId !== null) removeSigningKey(ctx, signingKeyId);
  }
}

function removeSigningKey(ctx: CeremonyContext, id: string): void {
  try {
    const session = ctx.partition.coSession();
    for (const key of signingKeyHandles(session)) if (key.id === id) session.destroyObject(key.handle);
  } catch {
    // logged out meanwhile: the next creation removes keys left by one that never completed
  }
}
