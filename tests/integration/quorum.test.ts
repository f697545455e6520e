// Officer card sets and m-of-n SO login against the lab: SoftHSM2 partitions made for each test,
// emulated cards in pcscd's readers, the real database and keychain. Outcomes are checked with
// independent clients: pkcs11-tool for the token, the card itself through the profile's files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combineShares } from '../../src/core/quorum/card-set';
import { binding, parseRecord, sealRecord } from '../../src/core/quorum/card-record';
import { unseal } from '../../src/core/quorum/seal';
import type { Terminal } from '../../src/core/terminal';
import type { CeremonyView } from '../../src/shared/types';
import { type Answer, adoptAnswers, blankCards, pin, present, removeAll, runCeremony, withCard } from './ceremony-driver';
import { lab, openTerminal, pkcs11Tool, tempHome, tokenFlags, until } from './support';

const cardPin = (i: number): string => `card-pin-${i}${i}${i}`;
const indexOf = (holder: string | undefined): number => Number(/-(\d+)$/.exec(holder ?? '')?.[1]);

interface Adopted {
  cards: string[];
  partition: { label: string; serial: string; soPin: string };
  view: CeremonyView;
}

async function adopted(terminal: Terminal, prefix: string, m: number, n: number): Promise<Adopted> {
  const created = await lab.newPartition(`${prefix} ${Date.now().toString(36)}`.slice(0, 32));
  await terminal.partition.select(lab.state().modulePath, created.serial);
  const cards = await blankCards(prefix, n);
  const view = await runCeremony(terminal, { kind: 'adopt', holders: cards.map((c) => `holder ${c}`), threshold: m }, adoptAnswers(cards, created.soPin, cardPin));
  expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
  return { cards, partition: { label: created.label, serial: created.serial, soPin: created.soPin }, view };
}

/** Presents `cards` in order and types each holder's PIN (or the one `pins` gives). */
function loginAnswers(cards: string[], pins: (holderIndex: number, attempt: number) => string = (i) => cardPin(i)): Answer {
  let next = 0;
  const attempts = new Map<number, number>();
  return async (view) => {
    if (view.prompt.kind === 'insert-card') {
      const card = cards[next++];
      if (!card) throw new Error(`the test ran out of cards at: ${view.prompt.text} (${JSON.stringify(view.notices)})`);
      await present(card);
      return null;
    }
    if (view.prompt.kind === 'enter-pin') {
      const index = indexOf(view.prompt.holder);
      const attempt = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, attempt);
      return pin(pins(index, attempt));
    }
    return null;
  };
}

let terminal: Terminal;

beforeAll(async () => {
  await lab.up();
  await removeAll();
  terminal = await openTerminal();
  await terminal.readers.start();
});

afterAll(async () => {
  await terminal.close();
  await removeAll();
});

describe('a 3-of-5 card set', () => {
  let set: Adopted;

  beforeAll(async () => {
    set = await adopted(terminal, 'q35', 3, 5);
  });

  it('is enrolled: the record names every card, and the partition carries the set', async () => {
    const record = set.view.result?.kind === 'adopt' ? set.view.result.record : null;
    expect(record).toMatchObject({ m: 3, n: 5, generation: 1, partition: { serial: set.partition.serial } });
    expect(record?.cards.map((c) => c.holder)).toEqual(set.cards.map((c) => `holder ${c}`));
    for (const c of record?.cards ?? []) expect(c.card).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(record?.cards.map((c) => c.card)).size).toBe(5);
    const objects = pkcs11Tool(['--token-label', set.partition.label, '--list-objects']);
    expect(objects).toContain('Tessera card set (so)');
    expect(terminal.cardSets.view()).toMatchObject({ m: 3, n: 5, source: 'terminal' });
    const audit = terminal.audit.list(20).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['cardset.enrol', 'cardset.enrol.start']));
  });

  it('logs in as SO with three cards, never with fewer, and shows who and until when', async () => {
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers(['q35-5', 'q35-2', 'q35-3']));
    expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
    expect(view.result).toMatchObject({ kind: 'so-login', holders: ['holder q35-2', 'holder q35-3', 'holder q35-5'] });
    const so = terminal.so.view();
    expect(so).toMatchObject({ active: true, holders: ['holder q35-2', 'holder q35-3', 'holder q35-5'] });
    expect(Date.parse(so.expiresAt as string) - Date.now()).toBeGreaterThan(4 * 60_000);
    expect(tokenFlags(set.partition.serial)).not.toMatch(/SO PIN count low|so pin count low/i);
    expect(terminal.audit.list(5).map((e) => `${e.action}:${e.outcome}`)).toContain('so.login:ok');
    await terminal.so.end('logout');
    expect(terminal.so.view().active).toBe(false);
  });

  it('refuses, by name and reason and at no cost, a blank card, a foreign card, the same card twice, a wrong PIN and a card pulled out', async () => {
    const foreign = await openTerminal();
    await foreign.readers.start();
    await adopted(foreign, 'qf', 1, 1);
    await foreign.close();
    const [blank] = await blankCards('qblank', 1);
    let pulled = false;
    const cards = [blank as string, 'qf-1', 'q35-1', 'q35-1', 'q35-2', 'q35-2', 'q35-4'];
    let next = 0;
    const view = await runCeremony(terminal, { kind: 'so-login' }, async (v) => {
      if (v.prompt.kind === 'insert-card') {
        const card = cards[next++];
        if (!card) throw new Error(`ran out of cards at ${v.prompt.text}: ${JSON.stringify(v.notices.map((n) => n.text))}`);
        if (card === 'q35-1' && next === 4) {
          // The same card again: pull it and push it back in.
          await lab.remove('q35-1');
          await lab.insert('q35-1');
        } else await present(card);
        return null;
      }
      if (v.prompt.kind === 'enter-pin') {
        const index = indexOf(v.prompt.holder);
        if (index === 2 && !pulled) {
          // The officer pulls the card out while asked for its PIN.
          pulled = true;
          await lab.remove('q35-2');
          return null;
        }
        if (index === 4 && v.notices.every((n) => !n.text.includes('PIN wrong'))) return pin('wrong-pin-44');
        return pin(cardPin(index));
      }
      return null;
    });
    const notices = view.notices.map((n) => n.text);
    expect(view.prompt.kind, JSON.stringify(notices)).toBe('done');
    expect(notices).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^A blank card: it holds no share of the SO card set/),
        expect.stringMatching(/^holder qf-1's SO card: This card belongs to a card set of partition “.*” \(serial .*\), not to the set this ceremony needs\./),
        expect.stringMatching(/^holder q35-1's SO card: already read/),
        expect.stringMatching(/^holder q35-2's SO card: taken out before it was read/),
        expect.stringMatching(/^holder q35-4's card: PIN wrong, 2 tries left\./),
      ]),
    );
    expect(view.result).toMatchObject({ holders: ['holder q35-1', 'holder q35-2', 'holder q35-4'] });
    // The wrong card PIN is in the audit log (who, tries left), the PIN itself is not.
    const wrong = terminal.audit.list(20).find((e) => e.action === 'card.pin');
    expect(wrong).toMatchObject({ outcome: 'refused', target: "holder q35-4's card", details: { holder: 'holder q35-4', triesLeft: 2, ceremony: 'so-login' } });
    // ...with the card that refused it, as the card itself names it, the step, and the officer as "who".
    const serial = await withCard(terminal, 'q35-4', (card) => card.serial());
    expect(serial).toMatch(/^[0-9a-f]{32}$/);
    expect(wrong?.details).toMatchObject({ card: serial, blocked: false, error: 'PIN_INCORRECT', step: expect.any(String) });
    expect(wrong?.officers).toEqual([{ holder: 'holder q35-4', card: serial }]);
    // The login's entry names each officer with the card read, paired in share order.
    const login = terminal.audit.list(20).find((e) => e.action === 'so.login' && e.outcome === 'ok');
    expect(login?.officers.map((o) => o.holder)).toEqual(['holder q35-1', 'holder q35-2', 'holder q35-4']);
    expect(login?.officers.find((o) => o.holder === 'holder q35-4')?.card).toBe(serial);
    expect(JSON.stringify(terminal.audit.list(50))).not.toContain('wrong-pin-44');
    expect(tokenFlags(set.partition.serial)).not.toMatch(/so pin count low/i);
    await terminal.so.end('logout');
  });

  it('refuses a card of an old generation and a card whose record was copied from another card', async () => {
    const [spare, copy] = await blankCards('qold', 2);
    const original = await withCard(terminal, 'q35-5', async (card) => parseRecord(await card.readSlot('so')));
    if (!original) throw new Error('q35-5 has no record');
    // An old generation: the same set, generation 0, on a card of its own.
    await withCard(terminal, spare as string, async (card) => {
      const serial = await card.ensureSerial();
      const old = { ...original.descriptor, generation: 0 };
      await card.writeSlot('so', await sealRecord(old, original.index, serial, Buffer.alloc(33, 1), Buffer.from(cardPin(5))));
    });
    // A copy: q35-5's record, byte for byte, on another card.
    await withCard(terminal, copy as string, async (card) => {
      await card.ensureSerial();
      await card.writeSlot('so', Buffer.from(JSON.stringify(original)));
    });
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers([spare as string, copy as string, 'q35-1', 'q35-2', 'q35-3']));
    const notices = view.notices.map((n) => n.text);
    expect(notices).toEqual(expect.arrayContaining([expect.stringMatching(/old generation of the card set \(0; the current one is 1\)/), expect.stringMatching(/written for another card: it was copied/)]));
    expect(view.prompt.kind, JSON.stringify(notices)).toBe('done');
    await terminal.so.end('logout');
  });

  it('refuses a forged share: a card rewritten with a valid-looking but wrong share, sealed under the right PIN', async () => {
    await withCard(terminal, 'q35-3', async (card) => {
      const record = parseRecord(await card.readSlot('so'));
      if (!record) throw new Error('q35-3 has no record');
      const forged = Buffer.alloc(33);
      forged.fill(7);
      await card.writeSlot('so', await sealRecord(record.descriptor, record.index, record.card, forged, Buffer.from(cardPin(3))));
    });
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers(['q35-3', 'q35-1', 'q35-2', 'q35-4']));
    const notices = view.notices.map((n) => n.text);
    expect(notices).toContainEqual(expect.stringMatching(/^holder q35-3's SO card: This card's share is not the one that was enrolled/));
    expect(view.result).toMatchObject({ holders: ['holder q35-1', 'holder q35-2', 'holder q35-4'] });
    expect(tokenFlags(set.partition.serial)).not.toMatch(/so pin count low/i);
    await terminal.so.end('logout');
  });

  it('logs in from an empty terminal home with the cards and the partition alone, and learns the set', async () => {
    const fresh = await openTerminal(tempHome());
    try {
      await fresh.readers.start();
      await fresh.partition.select(lab.state().modulePath, set.partition.serial);
      expect(fresh.cardSets.view()).toMatchObject({ source: 'partition', m: 0 });
      const view = await runCeremony(fresh, { kind: 'so-login' }, loginAnswers(['q35-4', 'q35-5', 'q35-1']));
      expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
      expect(fresh.so.view().active).toBe(true);
      await fresh.so.end('logout');
      expect(fresh.cardSets.view()).toMatchObject({ source: 'terminal', m: 3, n: 5 });
    } finally {
      await fresh.close();
    }
  });

  it('goes on when an emulator dies in the middle of reading a card', async () => {
    const order = ['q35-2', 'q35-1', 'q35-4', 'q35-5'];
    let next = 0;
    let killed = false;
    const view = await runCeremony(terminal, { kind: 'so-login' }, async (v) => {
      if (v.prompt.kind === 'insert-card') {
        await present(order[next++] as string);
        return null;
      }
      if (v.prompt.kind === 'enter-pin') {
        const index = indexOf(v.prompt.holder);
        if (index === 2 && !killed) {
          killed = true;
          lab.killCard('q35-2');
        }
        return pin(cardPin(index));
      }
      return null;
    });
    const notices = view.notices.map((n) => n.text);
    expect(notices.some((n) => n.startsWith("holder q35-2's SO card: ")), JSON.stringify(notices)).toBe(true);
    expect(view.result, JSON.stringify(notices)).toMatchObject({ holders: ['holder q35-1', 'holder q35-4', 'holder q35-5'] });
    await terminal.so.end('logout');
  });

  it('checks a card without logging in, and changes a card PIN so the share opens with the new PIN only', async () => {
    const check = await runCeremony(terminal, { kind: 'check-card' }, loginAnswers(['q35-4']));
    expect(check.result).toMatchObject({ kind: 'check-card', report: { holder: 'holder q35-4', index: 4, generation: 1, current: true, pinCorrect: true, shareIntact: true, m: 3, n: 5 } });
    const change = await runCeremony(terminal, { kind: 'change-pin' }, async (v) => {
      if (v.prompt.kind === 'insert-card') {
        await present('q35-4');
        return null;
      }
      if (v.prompt.kind === 'enter-pin') return pin(cardPin(4));
      if (v.prompt.kind === 'choose-pin') return { kind: 'pin', pin: Buffer.from('brand-new-pin-4'), repeat: Buffer.from('brand-new-pin-4') };
      return null;
    });
    expect(change.result, JSON.stringify(change.notices)).toMatchObject({ kind: 'change-pin', holder: 'holder q35-4' });
    // The old PIN, typed once (as from the CLI): wrong, and the share was not checked.
    const stale = await runCeremony(terminal, { kind: 'check-card' }, loginAnswers(['q35-4']), { retryWrongPin: false });
    expect(stale.result).toMatchObject({ report: { pinCorrect: false, shareIntact: null, triesLeft: 2, problem: 'PIN wrong, 2 tries left: the share was not checked.' } });
    const login = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers(['q35-4', 'q35-1', 'q35-5'], (i) => (i === 4 ? 'brand-new-pin-4' : cardPin(i))));
    expect(login.prompt.kind, JSON.stringify(login.notices)).toBe('done');
    await terminal.so.end('logout');
  });

  it('wipes what was collected when cancelled, and logs nobody in', async () => {
    const view = await runCeremony(terminal, { kind: 'so-login' }, async (v) => {
      if (v.prompt.kind === 'insert-card' && v.collected.length === 0) {
        await present('q35-1');
        return null;
      }
      if (v.prompt.kind === 'enter-pin') return pin(cardPin(1));
      if (v.prompt.kind === 'insert-card') return { kind: 'cancel' };
      return null;
    });
    expect(view.prompt.kind).toBe('cancelled');
    expect(terminal.so.view().active).toBe(false);
  });

  it('ends the SO session when it is idle for its configured time, and says so in the audit log', async () => {
    terminal.so.setIdleMinutes(1);
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers(['q35-1', 'q35-2', 'q35-5']));
    expect(view.prompt.kind).toBe('done');
    const so = terminal.so.view();
    expect(Date.parse(so.expiresAt as string) - Date.now()).toBeLessThanOrEqual(60_000);
    await until(() => !terminal.so.view().active, 'the idle SO session to end', 75_000);
    expect(terminal.audit.list(3).find((e) => e.action === 'so.logout')?.details).toMatchObject({ reason: 'idle' });
    terminal.so.setIdleMinutes(5);
  }, 120_000);

  it('keeps every secret off the disk: no card PIN, no share, no SO credential in the database files', async () => {
    // The test, knowing the PINs, rebuilds the credential from three cards to look for it.
    const shares: Buffer[] = [];
    for (const holder of ['q35-1', 'q35-2', 'q35-5']) {
      await withCard(terminal, holder, async (card) => {
        const record = parseRecord(await card.readSlot('so'));
        if (!record) throw new Error(`${holder} has no record`);
        const share = await unseal(record.sealed, Buffer.from(cardPin(record.index)), binding(record.descriptor, record.index, record.card));
        if (!share) throw new Error(`${holder}'s share does not open`);
        shares.push(share);
      });
    }
    const credential = await combineShares(shares, 3);
    const files = ['tessera.db', 'tessera.db-wal'].map((f) => readFileSync(join(terminal.home, f)));
    for (const file of files) {
      expect(file.includes(credential)).toBe(false);
      for (const share of shares) expect(file.includes(share)).toBe(false);
      for (let i = 1; i <= 5; i++) expect(file.includes(Buffer.from(cardPin(i)))).toBe(false);
      expect(file.includes(Buffer.from(set.partition.soPin))).toBe(false);
    }
  });
});

describe('other thresholds', () => {
  it.each([
    [1, 1],
    [1, 3],
  ])('enrols %i of %i and logs in with one card', async (m, n) => {
    const set = await adopted(terminal, `q${m}${n}`, m, n);
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers([set.cards[n - 1] as string]));
    expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
    expect(view.result).toMatchObject({ holders: [`holder ${set.cards[n - 1]}`] });
    await terminal.so.end('logout');
  });

  it('enrols 16 of 16 and logs in only with all sixteen cards', async () => {
    const set = await adopted(terminal, 'q16', 16, 16);
    const view = await runCeremony(terminal, { kind: 'so-login' }, loginAnswers([...set.cards].reverse()));
    expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
    expect(view.collected).toHaveLength(16);
    await terminal.so.end('logout');
  }, 300_000);
});
