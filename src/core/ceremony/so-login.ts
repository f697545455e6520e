// Logging in as security officer with m of the n officers' cards: a quorum of the partition's SO
// set (steps/quorum.ts), the credential checked against the set's commitment, and only then
// C_Login(CKU_SO): the terminal never causes a failed SO login with a credential it has not verified.
import type { CeremonyResult } from '../../shared/types';
import type { CardSetDescriptor } from '../quorum/card-set';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import { finishInterruptedAdoption, rollBackInterruptedAdoption } from './enrol-recovery';
import { finishInterruptedRotation, rollBackInterruptedRotation, setAsideUnvouched } from './rotate-recovery';
import type { CeremonyRun } from './run';
import { confirm } from './steps/confirm';
import { type QuorumSpec, collectQuorum } from './steps/quorum';
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
    'keeps',
  );
  ctx.store.resetSoFailures(token.serial);
  await ctx.audit.append({ actor: ctx.actor, action: 'so.login.acknowledged', target: `${token.label} (serial ${token.serial})`, outcome: 'ok', details: { failures, failure } });
  return { kind: 'so-acknowledge', failures, failure };
}

/** Who logged in as SO: the set, its holders in share order, and their card serials by share index. */
export interface SoQuorumLogin {
  descriptor: CardSetDescriptor;
  holders: string[];
  cards: Map<number, string>;
  /** With `keepSecret`: a copy of the credential, the caller's to wipe (a rotation needs it for C_SetPIN). */
  secret?: Buffer;
}

/** How an SO quorum login is asked for: its step, and what a ceremony adds to the quorum (words, refusals). */
export interface SoQuorumOptions extends RunOptions {
  loginStep: number;
  /** Words after "insert your card". */
  of?: string;
  /** Cards that do not count, before their PIN (a rotation: the card it replaces). */
  replaced?: QuorumSpec['replaced'];
  excluded?: string[];
  keepSecret?: boolean;
  /** Approvals the partition policy asks for: this many distinct holders' cards (at least m). */
  count?: number;
}

/**
 * Logs the SO in with a quorum of the partition's SO card set (steps/quorum.ts). First, a rotation
 * the intent log says was interrupted around C_SetPIN is set aside unless the audit log shows that
 * change under way (rotate-recovery.ts, setAsideUnvouched). The rebuilt credential is checked
 * against the set's commitment, then, right before C_Login(CKU_SO), that the partition is the same,
 * no refused SO login waits for an acknowledgement, the audit log (which decides that hold) is
 * whole, and the SO PIN is not at risk. A refused login is counted and recorded (`so.login` failed)
 * and holds further SO logins, unless it was the one probe that rolls back an adoption or rotation
 * a crash interrupted inside C_SetPIN; an accepted one is recorded (`so.login` ok, naming the
 * ceremony), finishes such an adoption or rotation (a rotation's anchor confirmed by the credential
 * the HSM just took), and records a set or generation learned from the cards. The credential is
 * wiped whatever happens. The SO stays logged in: the caller logs the SO out, or hands the session
 * on (ctx.so).
 * @param loginStep the ceremony's step shown while the credential is checked and sent.
 * @throws TesseraError CARD_ERROR (no card set; cards that do not rebuild the committed secret),
 *   TOKEN_NOT_FOUND (the partition changed), PIN_LOCKED (a refused login not acknowledged, a broken
 *   audit log, an SO PIN at risk: nothing was sent), PIN_INCORRECT (the HSM refused the verified
 *   credential); CeremonyCancelled.
 */
export async function loginSoWithQuorum(run: CeremonyRun, ctx: CeremonyContext, options: SoQuorumOptions): Promise<SoQuorumLogin> {
  const { partition } = ctx;
  // The intent log may have changed since the terminal started: a rotation it says was interrupted
  // around C_SetPIN is tried only while the audit log shows that change under way.
  const interrupted = interruptedRotation(ctx.intents, 'so', partition.partition().serial);
  const aside = interrupted ? await setAsideUnvouched(ctx, interrupted) : null;
  if (aside) run.notice('warning', aside);
  const trust = ctx.trust('so');
  if (!trust) throw new TesseraError('CARD_ERROR', 'This partition has no card set yet. Adopt it first (Cards).');
  const token = partition.partition();
  const quorum = await collectQuorum(run, {
    purpose: 'so',
    trusted: trust.trusted,
    tokenSerial: token.serial,
    descriptor: trust.descriptor,
    retryWrongPin: options.retryWrongPin,
    retire: trust.source !== 'interrupted',
    replaced: options.replaced ?? replacedWords(ctx),
    ...(options.of ? { of: options.of } : {}),
    ...(options.excluded ? { excluded: options.excluded } : {}),
    ...(options.count ? { count: options.count } : {}),
  });
  const { descriptor, holders, cards } = quorum;
  try {
    run.stepTo(options.loginStep);
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
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'failed', details: { holders: holders.join(', '), cards: [...cards.values()].join(', '), error: error instanceof TesseraError ? error.code : 'INTERNAL', terminalFailureCount: failures, ceremony: run.kind, ...(rolledBack ? { probe: 'an SO PIN change interrupted inside C_SetPIN: it had not taken effect' } : {}) } });
      if (incorrect) {
        throw new TesseraError('PIN_INCORRECT', rolledBack ?? 'The HSM refused the verified credential: its card-set record or the SO PIN was changed outside this terminal. No SO login is tried again until an officer has found out why and acknowledges it (Cards → Acknowledge the refused SO login, or tessera so-acknowledge).', error.detail);
      }
      throw error;
    }
    try {
      ctx.store.resetSoFailures(token.serial);
      await finishInterruptedAdoption(ctx, descriptor, cards);
      await finishInterruptedRotation(ctx, descriptor.set, descriptor.generation, cards, quorum.secret);
      // A set (or a generation made on another terminal) learned from the cards is recorded now that the HSM accepted it.
      const active = ctx.store.active(token.serial, 'so');
      if (!active || active.set !== descriptor.set || active.generation < descriptor.generation) ctx.store.save(descriptor, 'active', cards);
      const now = new Date();
      for (const [index, card] of cards) ctx.store.used(descriptor.set, descriptor.generation, index, card, now);
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'ok', details: { holders: holders.join(', '), cards: [...cards.values()].join(', '), set: descriptor.set, generation: descriptor.generation, ceremony: run.kind } });
    } catch (error) {
      // A login that cannot be recorded (or finished) does not stand.
      partition.logoutSo();
      throw error;
    }
    return { descriptor, holders, cards, ...(options.keepSecret ? { secret: Buffer.from(quorum.secret) } : {}) };
  } finally {
    wipe(quorum.secret);
  }
}

/** The SO-login ceremony: a quorum logs the SO in, and the session stays open (ctx.so ends it when idle). */
export async function soLogin(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'so-login' }>> {
  const { holders, cards } = await loginSoWithQuorum(run, ctx, { ...options, loginStep: 2 });
  const token = ctx.partition.partition();
  ctx.so.started({ label: token.label, serial: token.serial }, holders);
  return { kind: 'so-login', holders, cards: [...cards.values()] };
}

/**
 * @throws TesseraError PIN_LOCKED when the partition reports its SO PIN locked or at its final try:
 *   the terminal never risks the partition's last SO try.
 */
export function refuseWhenSoPinAtRisk(condition: string): void {
  if (condition === 'locked') throw new TesseraError('PIN_LOCKED', 'The partition reports its SO PIN locked. The terminal will not try.');
  if (condition === 'final-try') throw new TesseraError('PIN_LOCKED', 'The partition reports one SO login try left. The terminal will not risk it; find out what happened first.');
}
