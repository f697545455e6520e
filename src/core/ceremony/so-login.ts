// Logging in as security officer with m of the n officers' cards: a quorum of the partition's SO
// set (steps/quorum.ts), the credential checked against the set's commitment, and only then
// C_Login(CKU_SO): the terminal never causes a failed SO login with a credential it has not verified.
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import { finishInterruptedAdoption, rollBackInterruptedAdoption } from './enrol-recovery';
import type { CeremonyRun } from './run';
import { collectQuorum } from './steps/quorum';

/** Before any card is read: the partition has a card set, and its SO PIN is not at risk. */
export function precheckSoLogin(ctx: CeremonyContext): void {
  if (!ctx.trust('so')) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards, or tessera adopt).');
  refuseWhenSoPinAtRisk(ctx.partition.partition().soPin.condition);
}

export async function soLogin(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'so-login' }>> {
  const { partition } = ctx;
  const trust = ctx.trust('so');
  if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards).');
  const token = partition.partition();
  const quorum = await collectQuorum(run, { purpose: 'so', trusted: trust.trusted, tokenSerial: token.serial, descriptor: trust.descriptor, retryWrongPin: options.retryWrongPin });
  const { descriptor, holders, cards } = quorum;
  try {
    run.stepTo(2);
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition changed while the cards were read. Nothing was sent to the HSM.');
    refuseWhenSoPinAtRisk(partition.partition().soPin.condition);
    const target = `${token.label} (serial ${token.serial})`;
    try {
      partition.loginSo(Buffer.from(quorum.secret));
    } catch (error) {
      const failures = error instanceof TesseraError && error.code === 'PIN_INCORRECT' ? ctx.store.countSoFailure(token.serial) : ctx.store.soFailures(token.serial);
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'failed', details: { holders: holders.join(', '), error: error instanceof TesseraError ? error.code : 'INTERNAL', terminalFailureCount: failures } });
      if (error instanceof TesseraError && error.code === 'PIN_INCORRECT') {
        const rolledBack = await rollBackInterruptedAdoption(ctx, descriptor);
        throw new TesseraError('PIN_INCORRECT', rolledBack ?? 'The HSM refused the verified credential: the SO PIN was changed outside this terminal. Do not try again before it is explained.', error.detail);
      }
      throw error;
    }
    ctx.store.resetSoFailures(token.serial);
    await finishInterruptedAdoption(ctx, descriptor, cards);
    // A set learned from the cards (no record of it here) is recorded now that the HSM accepted it.
    if (!ctx.store.active(token.serial, 'so')) ctx.store.save(descriptor, 'active', cards);
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
