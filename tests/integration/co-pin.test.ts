// Resetting the crypto officer's PIN under an SO quorum, on the lab: a fresh partition adopted 2 of 3
// through the CLI, then `tessera co-pin reset` and the in-process ceremony (the GUI's answers).
// Checked from outside: pkcs11-tool logs in as crypto officer with the new PIN and not the old one,
// the token's flags never show a wrong SO login, and the audit log names who approved.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CeremonyInput } from '../../src/core/ceremony/run';
import type { Terminal } from '../../src/core/terminal';
import type { CeremonyView, EnrolmentRecord } from '../../src/shared/types';
import { type Answer, confirm, pin, present, removeAll, runCeremony, twice } from './ceremony-driver';
import { lab, openTerminal, pinLogsIn, tempHome, tessera, tokenFlags } from './support';

const tag = Date.now().toString(36);
const holders = ['alice', 'bob', 'carol'];
const cards = ['copin-a', 'copin-b', 'copin-c'];
const cardPins = ['copin-pin-111', 'copin-pin-222', 'copin-pin-333'];
const pinOf = (card: string): string => cardPins[cards.indexOf(card)] as string;

let label: string;
let serial: string;
let home: string;
let record: EnrolmentRecord;
/** The crypto officer's PIN as it should be now (the lab's, then each reset's). */
let current: string;

interface AuditLine {
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}

const audit = (): AuditLine[] => JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditLine[];

async function freshCard(card: string): Promise<void> {
  if (lab.state().cards.some((c) => c.holder === card)) await lab.blankCard(card);
  else await lab.newCard(card);
}

/** Only these cards in the readers, in this order (the CLI takes them in reader order). */
async function only(...inserted: string[]): Promise<void> {
  await removeAll();
  for (const card of inserted) await lab.insert(card);
}

function reset(pins: string[], newPin: string | null, extra: string[] = []): ReturnType<typeof tessera> {
  const args = ['co-pin', 'reset', '--token', label, '--pins-from', '3', '--wait', '15', '--json', ...extra];
  const fds = [pins.map((p) => `${p}\n`).join('')];
  if (newPin !== null) fds.push(`${newPin}\n`);
  return tessera(newPin !== null ? [...args, '--new-pin-fd', '4'] : args, { home, fds });
}

beforeAll(async () => {
  await lab.up();
  await removeAll();
  const created = await lab.newPartition(`CoPin ${tag}`);
  ({ label, serial } = created);
  current = created.userPin;
  home = tempHome();
  for (const card of cards) await freshCard(card);
  await only(...cards);
  const adopted = tessera(['adopt', '--token', label, '--holders', holders.join(','), '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '15', '--json'], { home, fds: [`${created.soPin}\n`, cardPins.map((p) => `${p}\n`).join('')] });
  expect(adopted.status, adopted.stderr).toBe(0);
  record = JSON.parse(adopted.stdout) as EnrolmentRecord;
  expect(record).toMatchObject({ m: 2, n: 3 });
});

afterEach(() => {
  // Every SO login in here is made with a credential the cards vouched for: the token never counts a wrong one.
  expect(tokenFlags(serial)).toMatch(/token initialized/);
  expect(tokenFlags(serial)).not.toMatch(/SO PIN count low|SO PIN final try|SO PIN locked/i);
});

afterAll(async () => {
  await removeAll();
});

describe('tessera co-pin reset', () => {
  it("resets the crypto officer's PIN with 2 of the 3 SO cards: the new PIN logs in, the old one does not, and the audit log names who approved", async () => {
    await only('copin-a', 'copin-c');
    const newPin = `co-new-${tag}-1`;
    const result = reset([pinOf('copin-a'), pinOf('copin-c')], newPin);
    expect(result.status, result.stderr).toBe(0);
    const alice = record.cards.find((c) => c.holder === 'alice')?.card;
    const carol = record.cards.find((c) => c.holder === 'carol')?.card;
    expect(JSON.parse(result.stdout)).toEqual({ reset: true, partition: { label, serial }, holders: ['alice', 'carol'], cards: [alice, carol] });
    // The briefing names who must be present, with their cards, and what stops working.
    expect(result.stderr).toMatch(/Who must be present: any 2 of the 3 holders of the SO card set, each with their own card and its PIN: alice \(card [0-9a-f]{32}\), bob \(card [0-9a-f]{32}\), carol \(card [0-9a-f]{32}\)\.\nNo blank card is needed\.\n/);
    expect(result.stderr).toMatch(/What stops working: the crypto officer's current PIN, at once\./);
    expect(pinLogsIn(label, newPin, 'user')).toBe(true);
    expect(pinLogsIn(label, current, 'user')).toBe(false);
    const entry = audit().find((e) => e.action === 'co-pin.reset');
    expect(entry).toMatchObject({ outcome: 'ok', details: { holders: 'alice, carol', cards: `${alice}, ${carol}`, set: record.set, generation: 1 } });
    // Secrets stay out of the log and the output.
    const everything = JSON.stringify(audit()) + result.stdout + result.stderr;
    for (const secret of [newPin, ...cardPins]) expect(everything).not.toContain(secret);
    current = newPin;
  });

  it('stops at a wrong card PIN given in advance, before any SO login: nothing changed', async () => {
    await only('copin-b', 'copin-c');
    const logins = audit().filter((e) => e.action === 'so.login').length;
    const result = reset(['not-bobs-pin', pinOf('copin-c')], `co-new-${tag}-never`);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bob's card: PIN wrong, 2 tries left\. Stopped there: a PIN given in advance is not tried again, nor on another card\./);
    expect(JSON.parse(result.stdout)).toMatchObject({ reset: false, error: { code: 'PIN_INCORRECT' } });
    expect(audit().filter((e) => e.action === 'so.login')).toHaveLength(logins);
    expect(audit()[0]).toMatchObject({ action: 'co-pin.reset', outcome: 'failed', details: { error: 'PIN_INCORRECT' } });
    expect(pinLogsIn(label, current, 'user')).toBe(true);
    // bob's tries come back with his right PIN (checked by the next test's quorum).
  });

  it("refuses a foreign card and a blank card before asking for their PIN, and takes the set's cards", async () => {
    // Another partition's card set, on a card of its own.
    const other = await lab.newPartition(`CoPin other ${tag}`);
    await freshCard('copin-x');
    await only('copin-x');
    const foreign = tessera(['adopt', '--token', other.label, '--holders', 'xavier', '--threshold', '1', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '15'], { home: tempHome(), fds: [`${other.soPin}\n`, 'copin-pin-xxx\n'] });
    expect(foreign.status, foreign.stderr).toBe(0);
    await freshCard('copin-blank');
    // In reader order: the foreign card, the blank card, then bob's and alice's. Only their two PINs are given:
    // a PIN asked of the foreign or blank card would take bob's line and fail.
    await only('copin-x', 'copin-blank', 'copin-b', 'copin-a');
    const newPin = `co-new-${tag}-2`;
    const result = reset([pinOf('copin-b'), pinOf('copin-a')], newPin);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/xavier's SO card: This card belongs to a card set of partition “CoPin other .*” \(serial .*\), not to the set this ceremony needs\./);
    expect(result.stderr).toMatch(/A blank card: it holds no share of the SO card set/);
    expect(JSON.parse(result.stdout)).toMatchObject({ reset: true, holders: ['alice', 'bob'] });
    expect(pinLogsIn(label, newPin, 'user')).toBe(true);
    expect(pinLogsIn(label, current, 'user')).toBe(false);
    current = newPin;
  });

  it.each([
    ['too short', 'abc', "This partition's crypto-officer PIN has 4 to 255 characters; that one has 3."],
    ['too long', 'x'.repeat(256), "This partition's crypto-officer PIN has 4 to 255 characters; that one has 256."],
  ])('refuses a new PIN given in advance that is %s, after the SO login: nothing changed, the SO logged out', async (_what, newPin, refusal) => {
    await only('copin-a', 'copin-b');
    const result = reset([pinOf('copin-a'), pinOf('copin-b')], newPin);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`tessera: The new PIN given in advance is refused: ${refusal}`);
    expect(JSON.parse(result.stdout)).toMatchObject({ reset: false, error: { code: 'PIN_INVALID' } });
    const [last, before] = audit();
    expect(last).toMatchObject({ action: 'co-pin.reset', outcome: 'failed' });
    expect(before).toMatchObject({ action: 'so.login', outcome: 'ok', details: { ceremony: 'co-pin-reset' } });
    expect(pinLogsIn(label, current, 'user')).toBe(true);
  });

  it('never takes the new PIN from --pins-from: without --new-pin-fd it is typed at a terminal, and with none the reset stops', async () => {
    await only('copin-a', 'copin-b');
    const sneaky = `co-new-${tag}-sneaky`;
    const result = reset([pinOf('copin-a'), pinOf('copin-b'), sneaky, sneaky], null);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/tessera: No terminal to type the PIN into\. Give it with --new-pin-fd N\./);
    expect(pinLogsIn(label, sneaky, 'user')).toBe(false);
    expect(pinLogsIn(label, current, 'user')).toBe(true);
  });

  it('clears the count of wrong crypto-officer PINs; SoftHSM2 never locks that PIN, so a locked one cannot be shown here', async () => {
    for (let i = 0; i < 5; i++) expect(pinLogsIn(label, `wrong-co-pin-${i}`, 'user')).toBe(false);
    // SoftHSM2 2.6 counts wrong user PINs (CKF_USER_PIN_COUNT_LOW) but never sets CKF_USER_PIN_LOCKED.
    expect(tokenFlags(serial)).toMatch(/user PIN count low/);
    expect(tokenFlags(serial)).not.toMatch(/user PIN locked|user PIN final try/);
    await only('copin-c', 'copin-b');
    const newPin = `co-new-${tag}-3`;
    const result = reset([pinOf('copin-c'), pinOf('copin-b')], newPin);
    expect(result.status, result.stderr).toBe(0);
    // C_InitPIN starts the count again: the flag is gone before anyone logs in.
    expect(tokenFlags(serial)).not.toMatch(/user PIN count low/);
    expect(pinLogsIn(label, newPin, 'user')).toBe(true);
    current = newPin;
  });
});

describe('the ceremony as the GUI answers it', () => {
  let terminal: Terminal;

  beforeAll(async () => {
    await removeAll();
    terminal = await openTerminal(home, 'gui');
    await terminal.partition.selectByLabel(lab.state().modulePath, label);
    await terminal.readers.start();
  });

  afterAll(async () => {
    await terminal.close();
  });

  /** The officers' answers: the briefing confirmed, alice's and carol's cards with their PINs, then `newPins` in turn, then `atReset`. */
  function answers(newPins: CeremonyInput[], atReset: (view: CeremonyView) => ReturnType<Answer>): { answer: Answer; asked: CeremonyView['prompt'][] } {
    const queue = ['copin-a', 'copin-c'];
    const asked: CeremonyView['prompt'][] = [];
    const answer: Answer = async (view) => {
      const p = view.prompt;
      asked.push(p);
      switch (p.kind) {
        case 'confirm':
          return p.confirmLabel === 'The officers are here: go on' ? confirm : atReset(view);
        case 'insert-card': {
          const card = queue.shift();
          if (!card) throw new Error(`ran out of cards at ${p.text}: ${JSON.stringify(view.notices.map((n) => n.text))}`);
          await present(card);
          return null;
        }
        case 'enter-pin':
          return pin(pinOf(p.holder === 'alice' ? 'copin-a' : 'copin-c'));
        case 'choose-pin': {
          const next = newPins.shift();
          if (!next) throw new Error(`ran out of new PINs at ${p.text} (${p.refusal ?? ''})`);
          return next;
        }
        default:
          return null;
      }
    };
    return { answer, asked };
  }

  it('refuses at the field a new PIN typed differently, too short, too long or empty, and asks again; nothing changes until the confirmation', async () => {
    const newPin = `co-new-${tag}-4`;
    let beforeConfirm: boolean | null = null;
    const { answer, asked } = answers(
      [
        { kind: 'pin', pin: Buffer.from('first-typing-1'), repeat: Buffer.from('first-typing-2') },
        twice('abc'),
        twice('y'.repeat(256)),
        twice(''),
        twice(newPin),
      ],
      (view) => {
        // After four refusals, at the confirmation: the PIN in force is still the old one.
        beforeConfirm = pinLogsIn(label, current, 'user');
        expect(view.prompt.text).toMatch(new RegExp(`^Reset the crypto officer's PIN of partition “${label}” \\(serial ${serial}\\) now, approved by the cards of alice, carol\\?`));
        expect(view.prompt.confirmLabel).toBe(`Reset the crypto officer's PIN of “${label}”`);
        return confirm;
      },
    );
    const view = await runCeremony(terminal, { kind: 'co-pin-reset' }, answer);
    expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
    const choose = asked.filter((p) => p.kind === 'choose-pin');
    expect(choose.map((p) => p.refusal)).toEqual([
      undefined,
      'The two PINs differ. Type the same PIN twice.',
      "This partition's crypto-officer PIN has 4 to 255 characters; that one has 3.",
      "This partition's crypto-officer PIN has 4 to 255 characters; that one has 256.",
      'No PIN was typed. Type the new PIN twice.',
    ]);
    expect(choose.every((p) => p.pinOf === 'crypto-officer' && p.holder === undefined && p.text === `Choose the new crypto-officer PIN of “${label}” (4 to 255 characters) and type it twice.`)).toBe(true);
    expect(beforeConfirm).toBe(true);
    expect(view.result).toMatchObject({ kind: 'co-pin-reset', partition: { label, serial }, holders: ['alice', 'carol'] });
    expect(view.summary?.changes).toEqual([`The crypto officer's PIN of “${label}” was reset by the SO (cards of alice, carol); the old PIN no longer works.`]);
    expect(terminal.partition.soLoggedIn).toBe(false);
    expect(pinLogsIn(label, current, 'user')).toBe(false);
    expect(pinLogsIn(label, newPin, 'user')).toBe(true);
    current = newPin;
    // The app's own crypto-officer login takes the new PIN too.
    await terminal.partition.login(Buffer.from(newPin));
    expect(terminal.partition.loggedIn).toBe(true);
    await terminal.partition.logout();
  });

  it('cancelled at the confirmation: the old PIN still works, the new one does not, the SO is logged out and the cancel is recorded', async () => {
    const never = `co-new-${tag}-cancelled`;
    const { answer } = answers([twice(never)], () => ({ kind: 'cancel' }));
    const view = await runCeremony(terminal, { kind: 'co-pin-reset' }, answer);
    expect(view.prompt).toMatchObject({ kind: 'cancelled', text: 'Cancelled. Nothing was changed.' });
    expect(terminal.partition.soLoggedIn).toBe(false);
    expect(terminal.audit.list(1)[0]).toMatchObject({ action: 'co-pin.reset', outcome: 'failed', details: { error: 'cancelled', holders: 'alice, carol' } });
    expect(pinLogsIn(label, never, 'user')).toBe(false);
    expect(pinLogsIn(label, current, 'user')).toBe(true);
  });

  it('is refused before any card while the crypto officer is logged in', async () => {
    await terminal.partition.login(Buffer.from(current));
    try {
      expect(() => terminal.ceremonies.start({ kind: 'co-pin-reset' })).toThrow(/The crypto officer is logged in\. Log out first/);
    } finally {
      await terminal.partition.logout();
    }
  });
});
