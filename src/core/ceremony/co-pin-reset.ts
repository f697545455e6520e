// Resetting the crypto officer's PIN under an SO quorum: the officers are told who must be present
// and what stops working, a quorum of the SO card set logs the SO in (so-login.ts), the new PIN is
// typed twice within the partition's own limits, and after a confirmation naming the partition the
// SO sets it with C_InitPIN (PKCS#11 v2.40 section 5.6) and is logged out again. One HSM step: a
// crash before it changes nothing, after it the new PIN is in force.
import type { CeremonyResult } from '../../shared/types';
import { TesseraError } from '../errors';
import { wipe } from '../secrets';
import type { CeremonyContext, RunOptions } from './context';
import type { CeremonyRun } from './run';
import { loginSoWithQuorum } from './so-login';
import { changeDigest } from '../policy/policy';
import { approvalsFor } from './steps/approvals';
import { briefing, confirm } from './steps/confirm';
import { choosePin } from './steps/pin';
import { tokenPinRules } from './steps/pin-rules';

type CoPinReset = Extract<CeremonyResult, { kind: 'co-pin-reset' }>;

/** The ceremony's steps, as declared in src/shared/ceremonies.ts. */
const STEP = { briefing: 0, quorum: 1, newPin: 2, reset: 3 } as const;

/**
 * Resets the crypto officer's PIN of the chosen partition with the SO logged in by a quorum of its
 * SO card set. The new PIN exists only as a local Buffer, wiped whatever happens; the SO is logged
 * out before the ceremony ends, whatever happens. Recorded as `co-pin.reset` with the holders and
 * card serials that approved it.
 * @throws TesseraError as loginSoWithQuorum (CARD_ERROR, TOKEN_NOT_FOUND, PIN_LOCKED, PIN_INCORRECT);
 *   TOKEN_NOT_FOUND when the partition changed before the reset; PIN_INVALID when the token refuses
 *   the PIN after all (C_InitPIN's CKR_PIN_LEN_RANGE, CKR_PIN_INVALID); CeremonyCancelled.
 */
export async function resetCoPin(run: CeremonyRun, ctx: CeremonyContext, options: RunOptions): Promise<CoPinReset> {
  const { partition } = ctx;
  const token = partition.partition();
  run.stepTo(STEP.briefing);
  // The partition policy may ask more holders than the quorum to approve (approvals.co-pin-reset).
  const count = approvalsFor(ctx, 'co-pin-reset');
  const digest = changeDigest({ action: 'co-pin-reset', partition: token.serial });
  await briefing(run, `${briefingText(ctx)}\nApprovals needed: ${count} holders of the SO card set (the partition policy's approvals.co-pin-reset). Digest of this change: ${digest}.`);

  run.stepTo(STEP.quorum);
  let pin: Buffer | null = null;
  try {
    const { descriptor, holders, cards } = await loginSoWithQuorum(run, ctx, { ...options, loginStep: STEP.quorum, count, of: ` to approve the crypto-officer PIN reset (digest ${digest})` });
    const approved = [...cards.values()];

    run.stepTo(STEP.newPin);
    const rules = tokenPinRules(partition.partition());
    pin = await choosePin(run, { text: `Choose the new crypto-officer PIN of “${token.label}” (${rules.min} to ${rules.max} characters) and type it twice.`, rules, pinOf: 'crypto-officer' });

    run.stepTo(STEP.reset);
    await confirm(
      run,
      `Reset the crypto officer's PIN of partition “${token.label}” (serial ${token.serial}) now, approved by the cards of ${holders.join(', ')}? The current PIN stops working at once; every application that logs in as crypto officer needs the new PIN.`,
      `Reset the crypto officer's PIN of “${token.label}”`,
      'destroys',
    );
    if (partition.partition().serial !== token.serial) throw new TesseraError('TOKEN_NOT_FOUND', 'The partition in the slot is no longer the one the SO logged in to. Nothing was changed.');
    run.working("Resetting the crypto officer's PIN…");
    partition.initCoPin(pin);
    run.wrote(`The crypto officer's PIN of “${token.label}” is reset; the old PIN no longer works.`);
    partition.logoutSo();
    await ctx.audit.append({
      actor: ctx.actor,
      action: 'co-pin.reset',
      target: `${token.label} (serial ${token.serial})`,
      outcome: 'ok',
      details: { holders: holders.join(', '), cards: approved.join(', '), set: descriptor.set, generation: descriptor.generation, digest },
    });
    return { kind: 'co-pin-reset', partition: { label: token.label, serial: token.serial }, holders, cards: approved };
  } finally {
    if (pin) wipe(pin);
    if (partition.soLoggedIn) partition.logoutSo();
  }
}

/** Step 0's words, a line each: who must be present (named, with their cards), that no blank card is needed, and what stops working. */
function briefingText(ctx: CeremonyContext): string {
  const token = ctx.partition.partition();
  const d = ctx.trust('so')?.descriptor ?? null;
  let who: string;
  if (d) {
    const known = ctx.store.cards(d.set, d.generation);
    const named = d.holders.map((h) => {
      const card = known.find((c) => c.index === h.index)?.cardSerial;
      return card ? `${h.holder} (card ${card})` : `${h.holder} (their SO card)`;
    });
    const howMany = d.n === 1 ? 'the one holder' : d.m === d.n ? `all ${d.n} holders` : `any ${d.m} of the ${d.n} holders`;
    who = `${howMany} of the SO card set, ${d.n === 1 ? 'with their card' : 'each with their own card'} and its PIN: ${named.join(', ')}.`;
  } else {
    who = "enough holders of the SO card set to log in as SO, each with their own card and its PIN (this terminal has no record of the set's holders yet: the cards name them).";
  }
  const stops =
    token.userPin.condition === 'not-initialised'
      ? 'The partition has no crypto-officer PIN yet: this sets the first one.'
      : "What stops working: the crypto officer's current PIN, at once. Every application that logs in as crypto officer must be given the new PIN.";
  return [`Reset the crypto officer's PIN of partition “${token.label}” (serial ${token.serial}).`, `Who must be present: ${who}`, 'No blank card is needed.', stops].join('\n');
}
