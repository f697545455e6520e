// Steps: PINs at the card, and the crypto officer's. Choosing a new PIN (typed twice, within a
// card's rules or the partition's limits), typing a card's PIN until the card accepts it (while
// tries remain, when the front end lets officers retry), and giving a blank card its holder's PIN
// in place of the transport PIN. A refused answer is shown at the same question, asked again; the
// terminal never retries a PIN by itself.
import type { OfficerCard, PinCheck } from '../../cards/officer-card';
import { TesseraError } from '../../errors';
import { pinRefusal } from '../../quorum/card-record';
import { wipe } from '../../secrets';
import type { CeremonyRun, RunRecord } from '../run';
import { CARD_PIN_RULES, type PinRules, TRANSPORT_PIN } from './pin-rules';

export interface PinQuestion {
  holder: string;
  reader: string;
  /** What the officer is asked, e.g. "Alice: type your card PIN." */
  text: string;
  /** What a wrong PIN means here, from "PIN wrong, 2 tries left." (e.g. "…: the share was not checked."). */
  wrongPin?: (refusal: string) => string;
}

/** Why a new PIN is refused, or null when it may be used (`rules`: a card PIN's unless said). */
export function newPinProblem(pin: Buffer, repeat: Buffer | undefined, rules: PinRules = CARD_PIN_RULES): string | null {
  if (pin.length === 0) return 'No PIN was typed. Type the new PIN twice.';
  if (repeat === undefined) return 'Type the new PIN twice.';
  if (!pin.equals(repeat)) return 'The two PINs differ. Type the same PIN twice.';
  if (pin.length < rules.min || pin.length > rules.max) return `${rules.what} has ${rules.min} to ${rules.max} characters; that one has ${pin.length}.`;
  return null;
}

export interface NewPinQuestion {
  /** What the officers are asked, e.g. "Ann: choose a PIN for your card (6 to 32 characters) and type it twice." */
  text: string;
  /** A card's holder and reader; none for a PIN that is not a card's (the crypto officer's). */
  holder?: string;
  reader?: string;
  /** The PIN it replaces, when known: the same one is refused. */
  current?: Buffer;
  /** A card PIN's rules unless said. */
  rules?: PinRules;
  /** Whose PIN it is when not a card's (shown at the field; the CLI reads it from --new-pin-fd only). */
  pinOf?: 'crypto-officer';
}

/** A new PIN, typed twice; asked again (with the reason, at the field) until it is valid. The caller wipes it. */
export async function choosePin(run: CeremonyRun, q: NewPinQuestion): Promise<Buffer> {
  let refusal: string | undefined;
  for (;;) {
    const prompt = { kind: 'choose-pin' as const, text: q.text, ...(q.holder ? { holder: q.holder } : {}), ...(q.reader ? { reader: q.reader } : {}), ...(q.pinOf ? { pinOf: q.pinOf } : {}), ...(refusal ? { refusal } : {}) };
    const input = await run.ask(prompt, 'pin');
    const problem = newPinProblem(input.pin, input.repeat, q.rules) ?? (q.current?.equals(input.pin) ? 'The new PIN is the same as the current one. Choose another.' : null);
    wipe(input.repeat);
    if (!problem) return input.pin;
    wipe(input.pin);
    refusal = problem;
  }
}

export type WrongPin = { wrongPin: true; triesLeft: number | null; blocked: boolean };

/**
 * Asks for the card's PIN and hands it to `attempt` (which verifies it on the card and uses it),
 * again after a wrong PIN while `retry` and the card allows; null when the card is given up (the
 * reason is noticed). The PIN is wiped after each attempt: `attempt` copies what it must keep.
 */
export async function withCardPin<T>(run: CeremonyRun, card: OfficerCard, q: PinQuestion & { retry: boolean }, attempt: (pin: Buffer) => Promise<T | WrongPin>): Promise<T | null> {
  let triesLeft = await card.pinTriesLeft();
  let refusal: string | undefined;
  for (;;) {
    if (triesLeft === 0) {
      run.notice('error', `${q.holder}'s card: ${pinRefusal({ triesLeft: 0, blocked: true })}`);
      await run.record({ action: CARD_PIN_BLOCKED_ACTION, target: `${q.holder}'s card`, outcome: 'refused', details: pinDetails(run, card, q.holder, { triesLeft: 0, blocked: true }) });
      return null;
    }
    const { pin } = await run.ask({ kind: 'enter-pin', text: q.text, holder: q.holder, reader: q.reader, triesLeft, ...(refusal ? { refusal } : {}) }, 'pin');
    run.working('Checking…');
    let result: T | WrongPin;
    try {
      result = await attempt(pin);
    } finally {
      wipe(pin);
    }
    if (!isWrongPin(result)) return result;
    refusal = q.wrongPin ? q.wrongPin(pinRefusal(result)) : pinRefusal(result);
    run.notice('warning', `${q.holder}'s card: ${refusal}`);
    // A wrong card PIN is part of the record (never the PIN itself).
    await run.record({ action: CARD_PIN_ACTION, target: `${q.holder}'s card`, outcome: 'refused', details: { ...pinDetails(run, card, q.holder, result), error: result.blocked ? 'PIN_LOCKED' : 'PIN_INCORRECT' } });
    if (result.blocked) return null;
    // PINs given in advance (the CLI's --pins-from) belong to one card each: the next one is never
    // tried on this card, nor this card's on the next.
    if (!q.retry) throw new TesseraError('PIN_INCORRECT', `${q.holder}'s card: ${refusal} Stopped there: a PIN given in advance is not tried again, nor on another card.`);
    triesLeft = result.triesLeft;
  }
}

/** The audit action of a card PIN the card refused (the PIN itself is never recorded). */
export const CARD_PIN_ACTION = 'card.pin';
/** The audit action of a card whose PIN is blocked, found before a PIN was asked for. */
export const CARD_PIN_BLOCKED_ACTION = 'card.pin.blocked';

/**
 * What the audit log keeps of a refused card PIN: the holder, the card's serial (as identified
 * before the PIN was asked for; null if it never was), the tries the card says are left (null when
 * it does not say), whether it is now blocked, and the ceremony's step. Never the PIN.
 */
function pinDetails(run: CeremonyRun, card: OfficerCard, holder: string | undefined, result: { triesLeft: number | null; blocked: boolean }): RunRecord['details'] {
  return { holder: holder ?? null, card: card.knownSerial, triesLeft: result.triesLeft, blocked: result.blocked, step: run.currentStep() };
}

function isWrongPin(value: unknown): value is WrongPin {
  return typeof value === 'object' && value !== null && 'wrongPin' in value;
}

/** VERIFY as an attempt for withCardPin: a copy of the PIN when the card accepts it. */
export async function verifiedPin(card: OfficerCard, pin: Buffer): Promise<Buffer | WrongPin> {
  return asAttempt(await card.verifyPin(pin), () => Buffer.from(pin));
}

/** Gives a blank card `pin` in place of the transport PIN; false when the card's PIN is not the transport PIN. */
export async function giveBlankCardPin(card: OfficerCard, pin: Buffer): Promise<boolean> {
  const transport = Buffer.from(TRANSPORT_PIN);
  try {
    return (await card.changePin(transport, pin)).ok;
  } finally {
    wipe(transport);
  }
}

function asAttempt<T>(check: PinCheck, ok: () => T): T | WrongPin {
  return check.ok ? ok() : { wrongPin: true, triesLeft: check.triesLeft, blocked: check.blocked };
}
