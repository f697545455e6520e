// What someone with write access to the terminal's database or to a card can and cannot make the
// ceremonies do (findings of an attack on the ceremony kit, each now refused). Checked from outside:
// the CLI as a separate process, the cards read directly, the SO login through the HSM.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/core/store/database';
import type { CardSetDescriptor } from '../../src/core/quorum/card-set';
import { confirm, removeAll, runCeremony, twice, pin, withCard } from './ceremony-driver';
import { lab, openTerminal, tempHome, tessera } from './support';

const PINS = 'atk-pin-ann1\natk-pin-ben2\n';

/** A fresh partition adopted 2-of-2 (ann, ben) through the CLI; the cards are left out of the readers. */
async function adopted(tag: string): Promise<{ label: string; home: string; cards: string[] }> {
  await removeAll();
  const partition = await lab.newPartition(`Atk ${tag} ${Date.now().toString(36)}`.slice(0, 32));
  const cards = [`atk-${tag}-a`, `atk-${tag}-b`];
  const known = new Set(lab.state().cards.map((c) => c.holder));
  for (const card of cards) {
    if (known.has(card)) await lab.blankCard(card);
    else await lab.newCard(card);
    await lab.insert(card);
  }
  const home = tempHome();
  const result = tessera(['adopt', '--token', partition.label, '--holders', 'ann,ben', '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [`${partition.soPin}\n`, PINS] });
  expect(result.status, result.stderr).toBe(0);
  await removeAll();
  return { label: partition.label, home, cards };
}

/** Writes a row into the terminal's intent log, as someone with the database file could. */
function forgeIntent(home: string, step: string, descriptor: CardSetDescriptor): void {
  const db = openDatabase(join(home, 'tessera.db'));
  try {
    const now = new Date().toISOString();
    db.prepare('INSERT INTO intents (kind, step, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('adopt', step, JSON.stringify({ descriptor, cards: {} }), now, now);
  } finally {
    db.close();
  }
}

function activeDescriptor(home: string): CardSetDescriptor {
  const db = openDatabase(join(home, 'tessera.db'));
  try {
    return JSON.parse((db.prepare("SELECT descriptor FROM card_sets WHERE purpose = 'so' AND state = 'active'").get() as { descriptor: string }).descriptor) as CardSetDescriptor;
  } finally {
    db.close();
  }
}

describe('a forged intent in the database', () => {
  it('never turns the live set into an abandoned one, so its cards are not called dead nor made blank', async () => {
    const { label, home, cards } = await adopted('i1');
    forgeIntent(home, 'cards-writing', activeDescriptor(home));
    const list = tessera(['cards', 'list', '--token', label, '--json'], { home });
    expect(JSON.parse(list.stdout)).toMatchObject({ m: 2, n: 2 });
    await lab.insert(cards[1] as string);
    const check = JSON.parse(tessera(['cards', 'check', '--token', label, '--pin-fd', '3', '--json'], { home, fds: ['atk-pin-ben2\n'] }).stdout) as Record<string, unknown>;
    expect(check).toMatchObject({ current: true, pinCorrect: true, shareIntact: true, interrupted: null, problem: null });
    const reset = tessera(['cards', 'reset', '--token', label, '--pin-fd', '3'], { home, fds: ['atk-pin-ben2\n'] });
    expect(reset.status).toBe(1);
    expect(reset.stderr).toMatch(/holds a share of a set in use/);
    await lab.remove(cards[1] as string);
    for (const card of cards) await lab.insert(card);
    expect(tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '20'], { home, fds: [PINS] }).status).toBe(0);
  });

  it('naming another set as interrupted around C_SetPIN is contradicted by the partition: the real cards log in, nothing else reaches the HSM', async () => {
    const { label, home, cards } = await adopted('i2');
    const real = activeDescriptor(home);
    forgeIntent(home, 'so-pin-changing', { ...real, set: 'f0'.repeat(16), holders: [{ index: 1, holder: 'mallory' }], m: 1, n: 1 });
    for (const card of cards) await lab.insert(card);
    const login = tessera(['so-login', '--token', label, '--pins-from', '3', '--wait', '20', '--json'], { home, fds: [PINS] });
    expect(login.status, login.stderr).toBe(0);
    expect(JSON.parse(login.stdout)).toMatchObject({ loggedIn: true, holders: ['ann', 'ben'] });
    const audit = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as { action: string; outcome: string }[];
    expect(audit.filter((e) => e.action === 'so.login' && e.outcome === 'failed')).toEqual([]);
    await removeAll();
  });
});

describe('a card prepared by someone else', () => {
  it('with an identity but the blank-card PIN gets a PIN its holder chooses before a share is sealed on it', async () => {
    await removeAll();
    const partition = await lab.newPartition(`Atk t ${Date.now().toString(36)}`);
    const [card] = [`atk-t-a`];
    if (lab.state().cards.some((c) => c.holder === card)) await lab.blankCard(card as string);
    else await lab.newCard(card as string);
    const terminal = await openTerminal();
    try {
      await terminal.readers.start();
      await withCard(terminal, card as string, (c) => c.ensureSerial());
      await terminal.partition.selectByLabel(lab.state().modulePath, partition.label);
      const prompts: string[] = [];
      const view = await runCeremony(terminal, { kind: 'adopt', holders: ['tia'], threshold: 1 }, async (v) => {
        prompts.push(`${v.prompt.kind}: ${v.prompt.text}`);
        if (v.prompt.kind === 'enter-so-pin') return pin(partition.soPin);
        if (v.prompt.kind === 'insert-card') {
          await lab.insert(card as string);
          return null;
        }
        if (v.prompt.kind === 'enter-pin') return pin('1234');
        if (v.prompt.kind === 'choose-pin') return twice('tia-chosen-1');
        if (v.prompt.kind === 'confirm') return confirm;
        return null;
      });
      expect(view.prompt.kind, JSON.stringify(view.notices)).toBe('done');
      expect(prompts).toContainEqual(expect.stringMatching(/^choose-pin: tia: this card's PIN is the blank-card PIN/));
      // The card's PIN is the chosen one now: the transport PIN is refused.
      const check = await withCard(terminal, card as string, (c) => c.verifyPin(Buffer.from('tia-chosen-1')));
      expect(check).toEqual({ ok: true });
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
  });

  it('whose record names a holder with escape sequences is not read as ours, and its PIN is not asked', async () => {
    const { label, home, cards } = await adopted('n1');
    const terminal = await openTerminal(home);
    try {
      await terminal.readers.start();
      await withCard(terminal, cards[0] as string, async (c) => {
        const frame = await c.readSlot('so');
        if (frame.state !== 'ok') throw new Error('no record');
        const record = JSON.parse(frame.body.toString()) as { holder: string };
        record.holder = '\u001b]0;PWNED\u0007\u001b[2Jann';
        await c.writeSlot('so', Buffer.from(JSON.stringify(record)));
      });
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
    await lab.insert(cards[0] as string);
    const check = tessera(['cards', 'check', '--token', label, '--pin-fd', '3', '--json'], { home, fds: ['atk-pin-ann1\n'] });
    expect(JSON.parse(check.stdout)).toMatchObject({ current: false, pinCorrect: null, triesLeft: 3, problem: 'This card holds a record the terminal cannot read.' });
    expect(check.stderr).not.toContain('\u001b');
    await removeAll();
    const named = tessera(['adopt', '--token', label, '--holders', '\u001b[2Jeve,bob', '--threshold', '1'], { home });
    expect(named.status).toBe(1);
    expect(named.stderr).toMatch(/no control characters/);
  });
});
