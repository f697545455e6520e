// Logging in as security officer with m of the n officers' cards: a quorum of the partition's SO
// set (steps/quorum.ts), the credential checked against the set's commitment, and only then
// C_Login(CKU_SO): the terminal never causes a failed SO login with a credential it has not verified.
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import { finishInterruptedAdoption, rollBackInterruptedAdoption } from './enrol-recovery';
import { finishInterruptedRotation, rollBackInterruptedRotation, setAsideUnvouched } from './rotate-recovery';
import type { CeremonyRun } from './run';
import { confirm } from './steps/confirm';
import { collectQuorum } from './steps/quorum';
import { replacedWords } from './steps/rotate-cards';
import { soRefusals } from '../quorum/so-refusals';
import { interruptedRotation } from '../quorum/trust';

/** Before any card is read: the partition has a card set, and its SO PIN is not at risk. */
export function precheckSoLogin(ctx: CeremonyContext): void {
  if (!ctx.trust('so')) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards, or tessera adopt).');
  refuseAfterRefusedLogin(ctx);
  refuseWhenSoPinAtRisk(ctx.partition.partition().soPin.condition);
}

/**
 * After the HSM refused an SO login this terminal made, no other is tried on that partition until
 * an officer acknowledges it (so-acknowledge): a credential the cards vouched for was refused, so
 * something is wrong (a forged record, a PIN changed elsewhere), and real HSMs lock after very few
 * tries. This terminal's audit log decides (quorum/so-refusals.ts), not the token's flags (SoftHSM2
 * never locks) nor a database row alone.
 * @throws TesseraError PIN_LOCKED naming the refused login.
 */
export function refuseAfterRefusedLogin(ctx: CeremonyContext): void {
  const token = ctx.partition.partition();
  const { count: failures, last } = soRefusals(ctx.audit, ctx.store, token);
  if (failures === 0) return;
  throw new TesseraError('PIN_LOCKED', `The HSM refused ${failures === 1 ? 'an SO login' : `${failures} SO logins`} from this terminal (${last ?? 'see the audit log'}). No SO login is tried on “${token.label}” again until an officer has found out why and acknowledges it (Cards → Acknowledge the refused SO login, or tessera so-acknowledge).`);
}

/**
 * An officer acknowledges the refused SO login(s) on the partition, after finding out why; the
 * acknowledgement names the failure in the audit log and lets SO logins be tried again.
 * @throws TesseraError INVALID_REQUEST when nothing was refused; CeremonyCancelled.
 */
export async function acknowledgeRefusedLogin(run: CeremonyRun, ctx: CeremonyContext): Promise<Extract<CeremonyResult, { kind: 'so-acknowledge' }>> {
  const token = ctx.partition.partition();
  const refusals = soRefusals(ctx.audit, ctx.store, token);
  const failures = refusals.count;
  if (failures === 0) throw new TesseraError('INVALID_REQUEST', `No refused SO login of this terminal on “${token.label}” waits to be acknowledged.`);
  const failure = refusals.last ?? 'details not in this terminal\'s audit log';
  run.stepTo(1);
  await confirm(
    run,
    `The HSM refused ${failures === 1 ? 'an SO login' : `${failures} SO logins`} on “${token.label}” (serial ${token.serial}): ${failure}. The cards vouched for that credential, so its card-set record or the SO PIN was changed outside this terminal. Acknowledge only once you have found out why: the next SO login may cost another of the partition's SO tries.`,
    'Acknowledge: we know why it was refused',
  );
  ctx.store.resetSoFailures(token.serial);
  await ctx.audit.append({ actor: ctx.actor, action: 'so.login.acknowledged', target: `${token.label} (serial ${token.serial})`, outcome: 'ok', details: { failures, failure } });
  return { kind: 'so-acknowledge', failures, failure };
}

export async function soLogin(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'so-login' }>> {
  const { partition } = ctx;
  // The intent log may have changed since the terminal started: a rotation it says was interrupted
  // around C_SetPIN is tried only while the audit log shows that change under way.
  const interrupted = interruptedRotation(ctx.intents, 'so', partition.partition().serial);
  const aside = interrupted ? await setAsideUnvouched(ctx, interrupted) : null;
  if (aside) run.notice('warning', aside);
  const trust = ctx.trust('so');
  if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards).');
  const token = partition.partition();
  const quorum = await collectQuorum(run, { purpose: 'so', trusted: trust.trusted, tokenSerial: token.serial, descriptor: trust.descriptor, retryWrongPin: options.retryWrongPin, retire: trust.source !== 'interrupted', replaced: replacedWords(ctx) });
  const { descriptor, holders, cards } = quorum;
  try {
    run.stepTo(2);
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition changed while the cards were read. Nothing was sent to the HSM.');
    refuseAfterRefusedLogin(ctx);
    // The hold above is read from the audit log: its chain must be whole, or a deleted refusal could lift it.
    const log = await ctx.audit.verify();
    if (!log.intact) throw new TesseraError('PIN_LOCKED', `The audit log is not intact (${log.problem?.message ?? 'see tessera audit verify'}): no SO login is tried until that is explained. Nothing was sent to the HSM.`);
    refuseWhenSoPinAtRisk(partition.partition().soPin.condition);
    const target = `${token.label} (serial ${token.serial})`;
    try {
      partition.loginSo(Buffer.from(quorum.secret));
    } catch (error) {
      const incorrect = error instanceof TesseraError && error.code === 'PIN_INCORRECT';
      // A change interrupted inside C_SetPIN: this refusal was the one probe that tells, and it is rolled back.
      const rolledBack = incorrect ? ((await rollBackInterruptedAdoption(ctx, descriptor)) ?? (await rollBackInterruptedRotation(ctx, descriptor.set, descriptor.generation))) : null;
      const failures = incorrect && !rolledBack ? ctx.store.countSoFailure(token.serial) : ctx.store.soFailures(token.serial);
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'failed', details: { holders: holders.join(', '), error: error instanceof TesseraError ? error.code : 'INTERNAL', terminalFailureCount: failures, ...(rolledBack ? { probe: 'an SO PIN change interrupted inside C_SetPIN: it had not taken effect' } : {}) } });
      if (incorrect) {
        throw new TesseraError('PIN_INCORRECT', rolledBack ?? 'The HSM refused the verified credential: its card-set record or the SO PIN was changed outside this terminal. No SO login is tried again until an officer has found out why and acknowledges it (Cards → Acknowledge the refused SO login, or tessera so-acknowledge).', error.detail);
      }
      throw error;
    }
    ctx.store.resetSoFailures(token.serial);
    await finishInterruptedAdoption(ctx, descriptor, cards);
    await finishInterruptedRotation(ctx, descriptor.set, descriptor.generation, cards, quorum.secret);
    // A set (or a generation made on another terminal) learned from the cards is recorded now that the HSM accepted it.
    const active = ctx.store.active(token.serial, 'so');
    if (!active || active.set !== descriptor.set || active.generation < descriptor.generation) ctx.store.save(descriptor, 'active', cards);
    const now = new Date();
    for (const [index, card] of cards) ctx.store.used(descriptor.set, descriptor.generation, index, card, now);
    ctx.so.started({ label: token.label, serial: token.serial }, holders);
    await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'ok', details: { holders: holders.join(', '), cards: [...cards.values()].join(', '), set: descriptor.set, generation: descriptor.generation } });
    return { kind: 'so-login', holders, cards: [...cards.values()] };
  } finally {
    wipe(quorum.secret);
  }
}

/**
 * @throws TesseraError PIN_LOCKED when the partition reports its SO PIN locked or at its final try:
 *   the terminal never risks the partition's last SO try.
 */
export function refuseWhenSoPinAtRisk(condition: string): void {
  if (condition === 'locked') throw new TesseraError('PIN_LOCKED', 'The partition reports its SO PIN locked. The terminal will not try.');
  if (condition === 'final-try') throw new TesseraError('PIN_LOCKED', 'The partition reports one SO login try left. The terminal will not risk it; find out what happened first.');
}
