// Adopting a partition: the current SO PIN is typed once; the terminal makes a random SO credential
// (its randomness mixed with the HSM's), splits it m-of-n, and enrols one sealed share on each
// holder's card. Only when all n are written and checked does the terminal, after a confirmation
// naming the partition, change the SO PIN, then write the partition's anchor. Each step is in the
// intent log first; recovery (enrol-recovery.ts) finishes or rolls back what a crash interrupted.
import type { CeremonyStartOf } from '../../shared/ceremonies';
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { protectionWords } from '../partition/anchor';
import { UNPRINTABLE, newCredential, newDescriptor, splitSecret } from '../quorum/card-set';
import { type EnrolIntent, firstAnchor } from '../quorum/trust';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { confirm } from './steps/confirm';
import { abandonUnfinished, beginEnrolment, enrolSetCards, enrolmentRecord } from './steps/enrol';
import type { IntentSteps } from './steps/intent';
import { refuseWhenSoPinAtRisk } from './so-login';

type Params = Pick<CeremonyStartOf<'adopt'>, 'holders' | 'threshold'>;

/**
 * The holders and threshold of a new card set, checked before any ceremony starts.
 * @throws TesseraError INVALID_REQUEST naming what is wrong (count, threshold, blank or repeated name).
 */
export function checkHolders(params: Params): void {
  const n = params.holders.length;
  if (n < 1 || n > 16) throw new TesseraError('INVALID_REQUEST', 'A card set has 1 to 16 holders.');
  if (!Number.isInteger(params.threshold) || params.threshold < 1 || params.threshold > n) throw new TesseraError('INVALID_REQUEST', `The threshold must be between 1 and ${n}.`);
  const names = params.holders.map((h) => h.trim());
  if (names.some((h) => h === '' || h.length > 64)) throw new TesseraError('INVALID_REQUEST', 'Every holder needs a name of at most 64 characters.');
  if (names.some((h) => UNPRINTABLE.test(h))) throw new TesseraError('INVALID_REQUEST', 'A holder\'s name may hold letters, digits, spaces and punctuation, but no control characters.');
  const twice = names.find((h, i) => names.findIndex((o) => o.toLowerCase() === h.toLowerCase()) !== i);
  if (twice !== undefined) throw new TesseraError('INVALID_REQUEST', `Each holder may appear only once: “${twice}” is named twice.`);
}

/** Before any PIN is asked: the holders are valid, and the partition has no card set yet. */
export function precheckAdopt(ctx: CeremonyContext, params: Params): void {
  checkHolders(params);
  if (ctx.trust('so')) throw new TesseraError('INVALID_REQUEST', 'This partition has a card set already. It cannot be adopted twice.');
  refuseWhenSoPinAtRisk(ctx.partition.partition().soPin.condition);
}

export async function adopt(run: CeremonyRun, ctx: CeremonyContext, params: Params, options: RunOptions): Promise<Extract<CeremonyResult, { kind: 'adopt' }>> {
  const { partition, audit } = ctx;
  const holders = params.holders.map((h) => h.trim());
  const n = holders.length;
  const m = params.threshold;
  const token = partition.partition();
  const target = `${token.label} (serial ${token.serial})`;
  let soPin: Buffer | null = null;
  let credential: Buffer | null = null;
  let shares: Buffer[] = [];
  let intent: IntentSteps<EnrolIntent> | null = null;
  try {
    soPin = await loginWithCurrentSoPin(run, ctx, target);
    const random = partition.random(32);
    credential = newCredential(random, token.maxPinLength);
    wipe(random);
    shares = await splitSecret(credential, m, n);
    const descriptor = newDescriptor('so', token, holders, m, shares, credential);
    const set = descriptor.set;
    await audit.append({ actor: ctx.actor, action: 'cardset.enrol.start', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', ') } });
    intent = beginEnrolment(ctx, descriptor);
    const steps = intent;

    run.stepTo(1);
    const written = await enrolSetCards(run, ctx, steps, shares, options, (index, total, holder) => `Card ${index} of ${total}: ${holder}, insert your blank card.`);

    run.stepTo(2);
    await confirm(
      run,
      `${n === 1 ? 'The card is' : `All ${n} cards are`} written and checked. Change the SO PIN of partition “${token.label}” (serial ${token.serial}) now? The current SO PIN stops working; from then on ${n === 1 ? 'this card logs' : m === n ? `all ${n} cards together log` : `any ${m} of these ${n} cards log`} in as SO.`,
      `Change the SO PIN of “${token.label}”`,
      'destroys',
    );
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition in the slot is no longer the one the cards were written for. Nothing was changed.');
    run.working('Changing the SO PIN…');
    const current = soPin;
    const next = credential;
    steps.hsm('set-pin', 'so-pin-changing', 'so-pin-changed', () => partition.changeSoPin(current, next));
    const anchor = partition.writeAnchor('so', firstAnchor(descriptor));
    steps.advance('anchored', steps.data, 'after-anchor');
    ctx.store.save(descriptor, 'active', written);
    steps.finish('done');
    run.settledWrites();
    partition.logoutSo();

    const record = enrolmentRecord(descriptor, written);
    await audit.append({ actor: ctx.actor, action: 'cardset.enrol', target, outcome: 'ok', details: { set, m, n, holders: holders.join(', '), cards: record.cards.map((c) => `${c.holder}=${c.card}`).join(', '), anchor: protectionWords(anchor) } });
    return { kind: 'adopt', record };
  } finally {
    for (const share of shares) wipe(share);
    wipe(soPin, credential);
    // Stopped before the SO PIN changed: the set is abandoned (its cards may be enrolled again).
    abandonUnfinished(run, ctx, intent);
    if (partition.soLoggedIn) partition.logoutSo();
  }
}

/** The SO PIN typed once, proved by logging in with it (the partition counts a wrong one). */
async function loginWithCurrentSoPin(run: CeremonyRun, ctx: CeremonyContext, target: string): Promise<Buffer> {
  let refusal: string | undefined;
  for (;;) {
    refuseWhenSoPinAtRisk(ctx.partition.partition().soPin.condition);
    const { pin } = await run.ask({ kind: 'enter-so-pin', text: "Type the partition's current SO PIN. It is used once, to hand the partition over to the card set.", ...(refusal ? { refusal } : {}) }, 'pin');
    run.working('Checking the SO PIN…');
    try {
      ctx.partition.loginSo(Buffer.from(pin));
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'ok', details: { with: 'current SO PIN, for adoption' } });
      if (refusal) run.notice('info', 'The SO PIN is accepted.');
      return pin;
    } catch (error) {
      wipe(pin);
      await ctx.audit.append({ actor: ctx.actor, action: 'so.login', target, outcome: 'failed', details: { with: 'current SO PIN, for adoption', error: error instanceof TesseraError ? error.code : 'INTERNAL' } });
      if (!(error instanceof TesseraError) || error.code !== 'PIN_INCORRECT') throw error;
      refusal = `That is not the partition's SO PIN. ${ctx.partition.partition().soPin.words}`;
      run.notice('warning', refusal);
    }
  }
}
