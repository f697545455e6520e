// The shared ceremony steps on their own. The card is a fake here: it stands in for a card whose
// PIN counter we set at will (wrong PINs, a blocked card), which the lab's cards reach only by
// spending real tries; the same steps run against the lab in the integration and e2e tests.
import { describe, expect, it } from 'vitest';
import type { OfficerCard, PinCheck } from '../../src/core/cards/officer-card';
import type { ReaderMonitor } from '../../src/core/cards/reader-monitor';
import { CeremonyCancelled, CeremonyRun } from '../../src/core/ceremony/run';
import { choosePin, newPinProblem, verifiedPin, withCardPin } from '../../src/core/ceremony/steps/pin';
import { IntentSteps } from '../../src/core/ceremony/steps/intent';
import { tokenPinRules } from '../../src/core/ceremony/steps/pin-rules';
import type { IntentLog } from '../../src/core/store/intents';
import type { CeremonyView } from '../../src/shared/types';

const readers = { onChange: () => () => undefined, snapshot: () => ({ service: 'running', readers: [] }) } as unknown as ReaderMonitor;

function fakeCard(pin: string, tries = 3): OfficerCard & { tries: number } {
  const card = {
    tries,
    knownSerial: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    async pinTriesLeft() {
      return card.tries;
    },
    async verifyPin(typed: Buffer): Promise<PinCheck> {
      if (card.tries === 0) return { ok: false, triesLeft: 0, blocked: true };
      if (typed.toString() === pin) {
        card.tries = 3;
        return { ok: true };
      }
      card.tries--;
      return { ok: false, triesLeft: card.tries, blocked: card.tries === 0 };
    },
  };
  return card as unknown as OfficerCard & { tries: number };
}

/** Answers each new prompt of `run` with the next of `answers` (by kind), and records the prompts. */
function answering(run: CeremonyRun, answers: { pin: string; repeat?: string }[]): CeremonyView['prompt'][] {
  const seen: CeremonyView['prompt'][] = [];
  run.onChange((view) => {
    if (seen.at(-1)?.seq === view.prompt.seq) return;
    seen.push(view.prompt);
    if (view.prompt.kind === 'enter-pin' || view.prompt.kind === 'choose-pin') {
      const next = answers.shift();
      if (next) queueMicrotask(() => run.provide({ kind: 'pin', pin: Buffer.from(next.pin), ...(next.repeat === undefined ? {} : { repeat: Buffer.from(next.repeat) }) }));
    }
  });
  return seen;
}

describe('a ceremony cancelled while it works', () => {
  it('never shows its next question (a Ctrl-C during a backup\'s survey): the question ends cancelled, unseen', async () => {
    const run = new CeremonyRun(readers, 'backup', { label: 'L', serial: 'S' });
    const seen = answering(run, []);
    run.working('Reading the partition…');
    run.cancel();
    await expect(run.ask({ kind: 'confirm', text: 'Write this backup?' }, 'confirm')).rejects.toBeInstanceOf(CeremonyCancelled);
    await expect(run.nextCard({ kind: 'insert-card', text: 'Insert a card.' })).rejects.toBeInstanceOf(CeremonyCancelled);
    expect(seen.map((p) => p.kind)).toEqual(['working']);
    expect(() => run.provide({ kind: 'confirm' })).toThrow(/not waiting for that now/);
  });
});

describe('choosing a new card PIN', () => {
  it('names what is wrong with a new PIN, or nothing when it is right', () => {
    expect(newPinProblem(Buffer.from('abcdef'), undefined)).toMatch(/twice/);
    expect(newPinProblem(Buffer.from('abcdef'), Buffer.from('abcdeg'))).toMatch(/differ/);
    expect(newPinProblem(Buffer.from('abc'), Buffer.from('abc'))).toMatch(/6 to 32 characters; that one has 3/);
    expect(newPinProblem(Buffer.from('a'.repeat(33)), Buffer.from('a'.repeat(33)))).toMatch(/that one has 33/);
    expect(newPinProblem(Buffer.from('abcdef'), Buffer.from('abcdef'))).toBeNull();
  });

  it('asks again with the refusal at the same question until the PIN is valid', async () => {
    const run = new CeremonyRun(readers, 'change-pin', { label: 'L', serial: 'S' });
    const seen = answering(run, [{ pin: 'one-pin-1', repeat: 'two-pin-2' }, { pin: 'abc', repeat: 'abc' }, { pin: 'good-pin', repeat: 'good-pin' }]);
    const pin = await choosePin(run, { holder: 'Ann', reader: 'R', text: 'Ann: choose a PIN.' });
    expect(pin.toString()).toBe('good-pin');
    expect(seen.filter((p) => p.kind === 'choose-pin').map((p) => p.refusal)).toEqual([undefined, 'The two PINs differ. Type the same PIN twice.', 'A card PIN has 6 to 32 characters; that one has 3.']);
  });

  it("holds the crypto officer's PIN to the token's limits (ulMinPinLen, ulMaxPinLen), not a card PIN's, and refuses an empty one", () => {
    const rules = tokenPinRules({ minPinLength: 4, maxPinLength: 255 });
    expect(newPinProblem(Buffer.from('abcd'), Buffer.from('abcd'), rules)).toBeNull();
    expect(newPinProblem(Buffer.from('a'.repeat(255)), Buffer.from('a'.repeat(255)), rules)).toBeNull();
    expect(newPinProblem(Buffer.from('abc'), Buffer.from('abc'), rules)).toBe("This partition's crypto-officer PIN has 4 to 255 characters; that one has 3.");
    expect(newPinProblem(Buffer.from('a'.repeat(256)), Buffer.from('a'.repeat(256)), rules)).toMatch(/4 to 255 characters; that one has 256/);
    expect(newPinProblem(Buffer.alloc(0), Buffer.alloc(0), rules)).toBe('No PIN was typed. Type the new PIN twice.');
    // A token that names no minimum still gets a PIN of at least one character.
    expect(tokenPinRules({ minPinLength: 0, maxPinLength: 8 })).toMatchObject({ min: 1, max: 8 });
  });

  it("asks for the crypto officer's PIN with no holder or reader, and says whose PIN it is", async () => {
    const run = new CeremonyRun(readers, 'co-pin-reset', { label: 'L', serial: 'S' });
    const seen = answering(run, [{ pin: 'abc', repeat: 'abc' }, { pin: 'new-co-pin', repeat: 'new-co-pin' }]);
    const pin = await choosePin(run, { text: 'Choose the new crypto-officer PIN.', rules: tokenPinRules({ minPinLength: 4, maxPinLength: 255 }), pinOf: 'crypto-officer' });
    expect(pin.toString()).toBe('new-co-pin');
    const asked = seen.filter((p) => p.kind === 'choose-pin');
    expect(asked.map((p) => [p.pinOf, p.holder, p.reader, p.refusal])).toEqual([
      ['crypto-officer', undefined, undefined, undefined],
      ['crypto-officer', undefined, undefined, "This partition's crypto-officer PIN has 4 to 255 characters; that one has 3."],
    ]);
  });
});

describe('typing a card PIN', () => {
  it('lets the officer retry a wrong PIN while tries remain, showing the tries at the question', async () => {
    const run = new CeremonyRun(readers, 'check-card', { label: 'L', serial: 'S' });
    const card = fakeCard('right-pin');
    const seen = answering(run, [{ pin: 'wrong-1' }, { pin: 'right-pin' }]);
    const pin = await withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'Ann: type your card PIN.', retry: true }, (p) => verifiedPin(card, p));
    expect(pin?.toString()).toBe('right-pin');
    const asked = seen.filter((p) => p.kind === 'enter-pin');
    expect(asked.map((p) => [p.triesLeft, p.refusal])).toEqual([[3, undefined], [2, 'PIN wrong, 2 tries left.']]);
    expect(run.current().notices.map((n) => n.text)).toEqual(["Ann's card: PIN wrong, 2 tries left."]);
  });

  it('stops at one wrong PIN when the front end does not retry (CLI --pins-from), spending one try only', async () => {
    const run = new CeremonyRun(readers, 'so-login', { label: 'L', serial: 'S' });
    const card = fakeCard('right-pin');
    answering(run, [{ pin: 'wrong-1' }, { pin: 'right-pin' }]);
    await expect(withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'Ann: type your card PIN.', retry: false }, (p) => verifiedPin(card, p))).rejects.toThrow("Ann's card: PIN wrong, 2 tries left. Stopped there");
    expect(card.tries).toBe(2);
  });

  it('records each wrong PIN with the card, its holder, the tries left and the step, never the PIN', async () => {
    const run = new CeremonyRun(readers, 'check-card', { label: 'L', serial: 'S' });
    const recorded: unknown[] = [];
    run.record = async (entry) => void recorded.push(entry);
    const card = fakeCard('right-pin');
    answering(run, [{ pin: 'wrong-1' }, { pin: 'right-pin' }]);
    await withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'x', retry: true }, (p) => verifiedPin(card, p));
    expect(recorded).toEqual([
      {
        action: 'card.pin',
        target: "Ann's card",
        outcome: 'refused',
        details: { holder: 'Ann', card: 'c0ffee00c0ffee00c0ffee00c0ffee00', triesLeft: 2, blocked: false, step: run.current().steps[0]?.title, error: 'PIN_INCORRECT' },
      },
    ]);
    expect(JSON.stringify(recorded)).not.toContain('wrong-1');
  });

  it('records the PIN that blocks the card as such', async () => {
    const run = new CeremonyRun(readers, 'so-login', { label: 'L', serial: 'S' });
    const recorded: { details: Record<string, unknown> }[] = [];
    run.record = async (entry) => void recorded.push(entry);
    const card = fakeCard('right-pin', 1);
    answering(run, [{ pin: 'wrong-1' }]);
    expect(await withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'x', retry: true }, (p) => verifiedPin(card, p))).toBeNull();
    expect(recorded.map((r) => r.details)).toEqual([expect.objectContaining({ card: 'c0ffee00c0ffee00c0ffee00c0ffee00', triesLeft: 0, blocked: true, error: 'PIN_LOCKED' })]);
  });

  it('never asks a blocked card for its PIN, and records that the card was refused for it', async () => {
    const run = new CeremonyRun(readers, 'so-login', { label: 'L', serial: 'S' });
    const recorded: unknown[] = [];
    run.record = async (entry) => void recorded.push(entry);
    const card = fakeCard('right-pin', 0);
    const seen = answering(run, [{ pin: 'right-pin' }]);
    expect(await withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'x', retry: true }, (p) => verifiedPin(card, p))).toBeNull();
    expect(seen.some((p) => p.kind === 'enter-pin')).toBe(false);
    expect(run.current().notices.map((n) => n.text)).toEqual(["Ann's card: The card is blocked after too many wrong PINs."]);
    expect(recorded).toEqual([
      { action: 'card.pin.blocked', target: "Ann's card", outcome: 'refused', details: { holder: 'Ann', card: 'c0ffee00c0ffee00c0ffee00c0ffee00', triesLeft: 0, blocked: true, step: run.current().steps[0]?.title } },
    ]);
  });

  it('wipes every PIN it was given', async () => {
    const run = new CeremonyRun(readers, 'check-card', { label: 'L', serial: 'S' });
    const card = fakeCard('right-pin');
    const given: Buffer[] = [];
    run.onChange((view) => {
      if (view.prompt.kind !== 'enter-pin') return;
      const pin = Buffer.from(given.length === 0 ? 'wrong-1' : 'right-pin');
      given.push(pin);
      queueMicrotask(() => run.provide({ kind: 'pin', pin }));
    });
    const copy = await withCardPin(run, card, { holder: 'Ann', reader: 'R', text: 'x', retry: true }, (p) => verifiedPin(card, p));
    expect(copy?.toString()).toBe('right-pin');
    expect(given.every((b) => b.every((x) => x === 0))).toBe(true);
  });
});

describe('the intent-logged steps', () => {
  it('records each step before it is taken, the HSM change between two, and finishes once', () => {
    const log: string[] = [];
    const intents = {
      begin: (kind: string, step: string, data: unknown) => (log.push(`begin ${kind} ${step}`), { id: 1, kind, step, data }),
      step: (intent: { kind: string }, step: string, data: unknown) => (log.push(`step ${step}`), { ...intent, step, data }),
      finish: (_intent: unknown, outcome: string) => log.push(`finish ${outcome}`),
    } as unknown as IntentLog;
    const steps = new IntentSteps(intents, 'adopt', 'cards-writing', { n: 1 });
    steps.advance('cards-writing', { n: 2 });
    const result = steps.hsm('set-pin', 'so-pin-changing', 'so-pin-changed', () => (log.push('C_SetPIN'), 42));
    steps.finish('done');
    steps.finish('failed');
    expect(result).toBe(42);
    expect(log).toEqual(['begin adopt cards-writing', 'step cards-writing', 'step so-pin-changing', 'C_SetPIN', 'step so-pin-changed', 'finish done']);
    expect(steps.data).toEqual({ n: 2 });
  });
});
