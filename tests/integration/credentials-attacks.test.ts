// Attacks on the credential ceremonies (SO rotation, card replacement, backup-set rotation, roll
// call) by someone with a R/W session on the partition (plants public objects), write access to the
// terminal's database file (card_sets, set_cards, intents), the cards (copies, forged records, a
// card pulled mid-write) and the power switch (SIGKILL at the rotation's crash points). Each test
// states what must hold; checked from outside: the CLI as a separate process, pkcs11-tool for the
// token's flags, the audit log, the cards read directly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Anchor } from '../../src/core/partition/anchor';
import { type CardSetDescriptor, descriptorHash } from '../../src/core/quorum/card-set';
import { endorse } from '../../src/core/quorum/rotation-key';
import { openDatabase } from '../../src/core/store/database';
import { removeAll, withCard } from './ceremony-driver';
import { lab, openTerminal, pkcs11Tool, tempHome, tessera } from './support';

const pinOf = (card: string): string => `pin-${card}-91`;
const lines = (cards: string[]): string => `${cards.map(pinOf).join('\n')}\n`;

/** The cards in the order the CLI takes them (reader order). */
function readerOrder(cards: string[]): string[] {
  const reader = (c: string): string => lab.state().cards.find((x) => x.holder === c)?.reader ?? '';
  return [...cards].sort((a, b) => reader(a).localeCompare(reader(b)));
}

/** Only these cards in readers, inserted in this order. */
async function only(cards: string[]): Promise<void> {
  await removeAll();
  for (const c of cards) await lab.insert(c);
}

async function blank(cards: string[]): Promise<void> {
  const known = new Set(lab.state().cards.map((c) => c.holder));
  for (const card of cards) {
    if (known.has(card)) await lab.blankCard(card);
    else await lab.newCard(card);
  }
}

interface Fresh {
  label: string;
  serial: string;
  soPin: string;
  home: string;
  /** holder name → lab card */
  cardOf: Map<string, string>;
}

/** A fresh partition adopted m-of-n onto blank cards `${prefix}-1…`; holder i is named h1, h2, … in reader order. */
async function fresh(prefix: string, n: number, m: number): Promise<Fresh> {
  await removeAll();
  const created = await lab.newPartition(`${prefix} ${Date.now().toString(36)}`.slice(0, 32));
  const cards = Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  await blank(cards);
  await only(cards);
  const order = readerOrder(cards);
  const holders = order.map((_, i) => `h${i + 1}`);
  const home = tempHome();
  const adopted = tessera(['adopt', '--token', created.label, '--holders', holders.join(','), '--threshold', String(m), '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [`${created.soPin}\n`, lines(order)] });
  expect(adopted.status, adopted.stderr).toBe(0);
  return { label: created.label, serial: created.serial, soPin: created.soPin, home, cardOf: new Map(holders.map((h, i) => [h, order[i] as string])) };
}

const card = (f: Fresh, holder: string): string => f.cardOf.get(holder) as string;

function soLogin(f: Fresh, cards: string[], wait = 20): ReturnType<typeof tessera> {
  return tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', String(wait), '--json'], { home: f.home, fds: [lines(readerOrder(cards))] });
}

/** so-rotate with every card of `f` kept (same holders, m unchanged): the quorum is the first m cards in reader order. */
function rotateKept(f: Fresh, m: number, env: Record<string, string> = {}): ReturnType<typeof tessera> {
  const order = readerOrder([...f.cardOf.values()]);
  return tessera(['so-rotate', '--token', f.label, '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...order.slice(0, m), ...order])], env });
}

/** Token flags as OpenSC's pkcs11-tool prints them. */
function tokenFlags(serial: string): string {
  const block = pkcs11Tool(['--list-token-slots']).split(/\nSlot /).find((b) => b.includes(`serial num         : ${serial}`));
  return /token flags\s+: (.*)/.exec(block ?? '')?.[1] ?? '';
}

interface Entry {
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}

function auditOf(f: Fresh): Entry[] {
  return JSON.parse(tessera(['audit', 'list', '--json', '--limit', '400'], { home: f.home }).stdout) as Entry[];
}

/** SO logins the HSM refused, as this terminal's audit log records them (probes included). */
const refusedLogins = (f: Fresh): Entry[] => auditOf(f).filter((e) => e.action === 'so.login' && e.outcome === 'failed' && e.details.error === 'PIN_INCORRECT');

/** Runs `work` on the terminal's database file, as someone with write access to it could. */
function withDatabase<T>(home: string, work: (db: ReturnType<typeof openDatabase>) => T): T {
  const db = openDatabase(join(home, 'tessera.db'));
  try {
    return work(db);
  } finally {
    db.close();
  }
}

interface IntentRow {
  id: number;
  step: string;
  done: number;
  data: string;
}

const rotateIntents = (home: string): IntentRow[] => withDatabase(home, (db) => db.prepare("SELECT id, step, done, data FROM intents WHERE kind = 'so-rotate' ORDER BY id").all() as IntentRow[]);

const activeSo = (home: string): CardSetDescriptor =>
  withDatabase(home, (db) => JSON.parse((db.prepare("SELECT descriptor FROM card_sets WHERE purpose = 'so' AND state = 'active'").get() as { descriptor: string }).descriptor) as CardSetDescriptor);

const pkcs11js = JSON.stringify(join(import.meta.dirname, '../../node_modules/pkcs11js'));
/** Creates an unmodifiable public data object labelled like an anchor, in a R/W session without any login (argv: module, token label, anchor label, value). */
const plantScript = `
const k = require(${pkcs11js});
const p = new k.PKCS11();
const [, mod, token, label, value] = process.argv;
p.load(mod); p.C_Initialize();
const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === token);
const s = p.C_OpenSession(slot, k.CKF_SERIAL_SESSION | k.CKF_RW_SESSION);
p.C_CreateObject(s, [{ type: k.CKA_CLASS, value: k.CKO_DATA }, { type: k.CKA_TOKEN, value: true }, { type: k.CKA_PRIVATE, value: false }, { type: k.CKA_MODIFIABLE, value: false }, { type: k.CKA_APPLICATION, value: 'Tessera' }, { type: k.CKA_LABEL, value: label }, { type: k.CKA_VALUE, value: Buffer.from(value) }]);
p.C_Finalize();
`;

/** Plants an anchor on the partition, as anyone with a session could. */
function plant(label: string, purpose: 'so' | 'backup', anchor: Anchor): void {
  const state = lab.state();
  const result = spawnSync(process.execPath, ['-e', plantScript, state.modulePath, label, `Tessera card set (${purpose})`, JSON.stringify(anchor)], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
}

/** Every byte the terminal keeps in its home (database, WAL, settings). */
function homeBytes(home: string): string {
  return readdirSync(home)
    .map((name) => {
      try {
        return readFileSync(join(home, name)).toString('latin1');
      } catch {
        return '';
      }
    })
    .join('\n');
}

describe('a rotation that was rolled back leaves nothing an attacker can use', () => {
  it('its endorsed anchor, copied from the intent log and planted on the partition, is not followed: generation 1 still logs in, no SO try is spent and no share is retired', async () => {
    const f = await fresh('ca-plant', 3, 2);
    await only([...f.cardOf.values()]);
    // Every card of generation 2 written, then the power fails: the next start rolls it back.
    const crashed = rotateKept(f, 2, { TESSERA_TEST_CRASH_AT: 'so-rotate:card-3' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const next = tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home });
    expect(next.stderr).toMatch(/rolled back: generation 1 is still in force/);

    // The attacker reads the rolled-back rotation's anchor (endorsed by generation 1) from the database and plants it.
    const [intent] = rotateIntents(f.home);
    const anchor = (JSON.parse(intent?.data ?? '{}') as { anchor: Anchor }).anchor;
    expect(anchor.endorsement).toBeDefined();
    plant(f.label, 'so', anchor);

    const flags = tokenFlags(f.serial);
    const listed = tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home });
    expect(JSON.parse(listed.stdout), listed.stderr).toMatchObject({ generation: 1 });
    // The officers log in as usual with two of their cards.
    const two = readerOrder([...f.cardOf.values()]).slice(0, 2);
    await only(two);
    const login = soLogin(f, two);
    expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
    expect(refusedLogins(f)).toEqual([]);
    expect(tokenFlags(f.serial)).toBe(flags);
    // A terminal without any record of the partition follows the partition's anchors alone: the same.
    const stranger = tempHome();
    const seen = tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', '20', '--json'], { home: stranger, fds: [lines(two)] });
    expect(seen.status, `${seen.stdout}\n${seen.stderr}`).toBe(0);
    expect(tokenFlags(f.serial)).toBe(flags);
  }, 240_000);

  it('its intent, set back to "inside the SO PIN change" in the database, is not probed again: the one probe was spent, the old generation logs in', async () => {
    const f = await fresh('ca-probe', 3, 2);
    await only([...f.cardOf.values()]);
    const crashed = rotateKept(f, 2, { TESSERA_TEST_CRASH_AT: 'so-rotate:before-set-pin' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    // The documented probe: the new cards are tried once, refused, the rotation rolled back.
    const probe = soLogin(f, [...f.cardOf.values()]);
    expect(probe.status).toBe(1);
    expect(probe.stdout).toMatch(/that one refused try was the probe/);
    expect(refusedLogins(f)).toHaveLength(1);
    const ok = soLogin(f, [...f.cardOf.values()]);
    expect(ok.status, ok.stderr).toBe(0);

    // The attacker sets the rolled-back intent back to where the crash left it, again and again.
    for (let round = 0; round < 2; round++) {
      withDatabase(f.home, (db) => db.prepare("UPDATE intents SET done = 0, step = 'so-pin-changing' WHERE kind = 'so-rotate'").run());
      const login = soLogin(f, [...f.cardOf.values()]);
      expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
      expect(refusedLogins(f)).toHaveLength(1);
    }
  }, 240_000);
});

describe('a rotation tried again after a rollback', () => {
  it('records the generation that took effect, not the one rolled back: its cards log in, and no PIN is left in the terminal\'s files or output', async () => {
    const f = await fresh('ca-again', 3, 2);
    await only([...f.cardOf.values()]);
    const crashed = rotateKept(f, 2, { TESSERA_TEST_CRASH_AT: 'so-rotate:card-1' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const order = readerOrder([...f.cardOf.values()]);
    const again = tessera(['so-rotate', '--token', f.label, '--threshold', '3', '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...order.slice(0, 2), ...order])] });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ from: 1, record: { generation: 2, m: 3, n: 3 } });
    const listed = tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home });
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ generation: 2, m: 3, n: 3 });
    expect(descriptorHash(activeSo(f.home))).toBe(JSON.parse(rotateIntents(f.home).at(-1)?.data ?? '{}').anchor.descriptor);
    const login = soLogin(f, order);
    expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
    // Secrets: no card PIN (nor the first SO PIN) in the database, its WAL, or anything printed.
    const printed = [crashed, again, listed, login].map((r) => r.stdout + r.stderr).join('\n');
    for (const secret of [...order.map(pinOf), f.soPin]) {
      expect(homeBytes(f.home)).not.toContain(secret);
      expect(printed).not.toContain(secret);
    }
  }, 240_000);
});

describe('cards whose old generation was not retired cleanly', () => {
  it('a card pulled while its record file was rewritten keeps its new share (taken and finished at the next login); a card that missed the retire pass is taken by the next rotation\'s write pass', async () => {
    const f = await fresh('ca-torn', 3, 2);
    await only([...f.cardOf.values()]);
    // Stopped after the anchor: generation 2 is in force, no card retired yet (old share in the
    // record file, the new one in the pending file).
    const crashed = rotateKept(f, 2, { TESSERA_TEST_CRASH_AT: 'so-rotate:after-anchor' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home }).stderr).toMatch(/It is finished: generation 2 is in force/);
    // Two cards pulled while the retire wrote their record file: its header was zeroed first, and
    // the card was gone before the rest came (what OfficerCard.writeFile leaves).
    const torn = [card(f, 'h1'), card(f, 'h2')];
    await removeAll();
    const terminal = await openTerminal(f.home);
    try {
      await terminal.readers.start();
      for (const c of torn) await withCard(terminal, c, (officer) => officer.clearSlot('so'));
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
    await only(torn);
    const login = soLogin(f, torn);
    expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
    // Finished on the card: its record is generation 2 now.
    const check = tessera(['cards', 'check', '--token', f.label, '--pin-fd', '3', '--json', '--wait', '10'], { home: f.home, fds: [`${pinOf(readerOrder(torn)[0] as string)}\n`] });
    expect(JSON.parse(check.stdout)).toMatchObject({ generation: 2, current: true, shareIntact: true });

    // h3's card was never retired (old share in its record file, generation 2 beside it). The next
    // rotation's quorum is h1 and h2 (first in reader order); then every card in the write pass.
    await only([card(f, 'h1'), card(f, 'h2'), card(f, 'h3')]);
    const rotated = rotateKept(f, 2);
    expect(rotated.stderr).not.toMatch(/from an old generation/);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ from: 2, record: { generation: 3 }, unretired: [] });
  }, 240_000);
});

describe('a roll call while a rotation is undecided', () => {
  it('is refused until an SO login has decided which generation is in force, then proves the new cards', async () => {
    const f = await fresh('ca-undecided', 3, 2);
    await only([...f.cardOf.values()]);
    const crashed = rotateKept(f, 2, { TESSERA_TEST_CRASH_AT: 'so-rotate:inside-set-pin' });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const order = readerOrder([...f.cardOf.values()]);
    const early = tessera(['cards', 'roll-call', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [lines(order)] });
    expect(early.status).toBe(1);
    expect(early.stderr).toMatch(/which generation is in force is not known yet/);
    expect(early.stderr).not.toMatch(/proved/);
    const login = soLogin(f, order);
    expect(login.status, login.stderr).toBe(0);
    const call = tessera(['cards', 'roll-call', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [lines(order)] });
    expect(call.status, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ generation: 2, missing: [], stale: [], quorumChecked: true });
  }, 240_000);
});

describe('a backup card replaced while a kept card still holds its old share', () => {
  it('does not count in a restore of a backup made before, on a terminal that recorded only the generation before: the partition says which generation is in force', async () => {
    await removeAll();
    const created = await lab.newPartition(`CA BK ${Date.now().toString(36)}`);
    const home = tempHome();
    // The partition's SO set (1 of 1), which approves restores of a set a terminal has not recorded.
    await blank(['ca-bk-so']);
    await only(['ca-bk-so']);
    const adopted = tessera(['adopt', '--token', created.label, '--holders', 'sam', '--threshold', '1', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20'], { home, fds: [`${created.soPin}\n`, lines(['ca-bk-so'])] });
    expect(adopted.status, adopted.stderr).toBe(0);
    const cards = ['ca-bk-1', 'ca-bk-2', 'ca-bk-3'];
    await blank(cards);
    await only(cards);
    const order = readerOrder(cards);
    const [h1, h2, h3] = order as [string, string, string];
    const userPin = `${created.userPin}\n`;
    const set = tessera(['backup-set', 'create', '--token', created.label, '--holders', 'h1,h2,h3', '--threshold', '2', '--pins-from', '3', '--pin-fd', '4', '--json'], { home, fds: [lines(order), userPin] });
    expect(set.status, set.stderr).toBe(0);
    const fingerprint = (JSON.parse(set.stdout) as { fingerprint: string }).fingerprint;
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-'));
    const made = tessera(['backup', 'create', '--token', created.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [userPin] });
    expect(made.status, made.stderr).toBe(0);
    const file = (JSON.parse(made.stdout) as { path: string }).path;
    // Another terminal records the SO set (an SO login) and generation 1 of the backup set (a backup, its fingerprint confirmed).
    const other = tempHome();
    await only(['ca-bk-so']);
    expect(tessera(['so-login', '--token', created.label, '--pins-from', '3', '--wait', '20'], { home: other, fds: [lines(['ca-bk-so'])] }).status).toBe(0);
    const theirs = tessera(['backup', 'create', '--token', created.label, '--media', media, '--pin-fd', '3', '--trust-set', fingerprint, '--json'], { home: other, fds: [userPin] });
    expect(theirs.status, theirs.stderr).toBe(0);

    // h2's card is lost: h1 and h3 approve, a blank card is h2's; the power fails after the anchor,
    // before the retire pass (h1 and h3 still hold their generation-1 share beside the new one).
    await blank(['ca-bk-new']);
    const present = [h1, h3, 'ca-bk-new'];
    await only(present);
    const now = readerOrder(present);
    const crashed = tessera(['backup-set', 'replace-card', '--token', created.label, '--holder', 'h2', '--pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [userPin, lines([...now.filter((c) => c !== 'ca-bk-new'), ...now])], env: { TESSERA_TEST_CRASH_AT: 'backup-set-rotate:after-anchor' } });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(tessera(['backup-set', 'show', '--token', created.label, '--json'], { home }).stderr).toMatch(/It is finished: generation 2 is in force/);

    // On the other terminal, the SO card approves; then h1's card, and the lost card.
    await only(['ca-bk-so', h1, h2]);
    const restored = tessera(['backup', 'restore', file, '--token', created.label, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--trust-set', fingerprint, '--json'], { home: other, fds: [lines(['ca-bk-so', h1, h2]), userPin] });
    expect(restored.status, restored.stdout).toBe(1);
    expect(restored.stderr).toMatch(/from an old generation of the card set \(1; the current one is 2\)/);
  }, 240_000);
});

describe('what held', () => {
  it('anchors and intents forged without a quorum (an unendorsed "generation 2", one endorsed by the attacker\'s own key, a rotate intent around C_SetPIN) are left out: generation 1 logs in, no SO try is spent', async () => {
    const f = await fresh('ca-held', 2, 2);
    const real = activeSo(f.home);
    const mallory = Buffer.alloc(32, 7);
    const forged: CardSetDescriptor = { ...real, generation: 2, holders: [{ index: 1, holder: 'mallory' }], m: 1, n: 1, shareHashes: ['00'.repeat(32)], commitment: '11'.repeat(32) };
    const hash = descriptorHash(forged);
    const succession = { purpose: 'so', set: real.set, partitionSerial: f.serial, generation: 2, descriptorHash: hash, rotationKey: real.rotationKey as string, previousDescriptorHash: descriptorHash(real) };
    const anchor: Anchor = { set: real.set, generation: 2, descriptor: hash, rotationKey: real.rotationKey as string, previous: descriptorHash(real), endorsement: endorse(mallory, 1, succession) };
    plant(f.label, 'so', anchor);
    plant(f.label, 'so', { ...anchor, endorsement: undefined } as Anchor);
    withDatabase(f.home, (db) => {
      const now = new Date().toISOString();
      const data = { descriptor: forged, from: { generation: 1, descriptorHash: descriptorHash(real) }, anchor, cards: { '1': 'ab'.repeat(16) }, kept: [], replaced: [], removed: [] };
      db.prepare('INSERT INTO intents (kind, step, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('so-rotate', 'so-pin-changing', JSON.stringify(data), now, now);
    });
    // And on h1's card, a "generation 2" record beside its own (its descriptor edited): never used, never retired into place.
    await removeAll();
    const terminal = await openTerminal(f.home);
    try {
      await terminal.readers.start();
      await withCard(terminal, card(f, 'h1'), async (c) => {
        const frame = await c.readSlot('so');
        if (frame.state !== 'ok') throw new Error('h1 holds a record');
        const record = JSON.parse(frame.body.toString()) as { descriptor: CardSetDescriptor };
        record.descriptor = { ...record.descriptor, generation: 2, m: 1 };
        await c.writeSlot('soPending', Buffer.from(JSON.stringify(record)));
      });
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
    const flags = tokenFlags(f.serial);
    const listed = tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home });
    expect(JSON.parse(listed.stdout)).toMatchObject({ generation: 1 });
    await only([...f.cardOf.values()]);
    const login = soLogin(f, [...f.cardOf.values()]);
    expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
    expect(refusedLogins(f)).toEqual([]);
    expect(tokenFlags(f.serial)).toBe(flags);
    const check = tessera(['cards', 'check', '--token', f.label, '--pin-fd', '3', '--json', '--wait', '10'], { home: f.home, fds: [`${pinOf(readerOrder([...f.cardOf.values()])[0] as string)}\n`] });
    expect(JSON.parse(check.stdout)).toMatchObject({ generation: 1, current: true, shareIntact: true });
  }, 120_000);

  it('a replaced card does not count in the quorum of its own replacement, and a copy of its record on another card is refused as copied', async () => {
    const f = await fresh('ca-lost', 3, 2);
    const lost = card(f, 'h2');
    await blank(['ca-lost-new']);
    // The lost card is in a reader first: it is refused (no PIN read for it), the other two approve.
    const present = [lost, card(f, 'h1'), card(f, 'h3'), 'ca-lost-new'];
    await only(present);
    const order = readerOrder(present);
    const quorum = order.filter((c) => c !== lost && c !== 'ca-lost-new');
    const writes = order.filter((c) => c !== lost);
    const replaced = tessera(['cards', 'replace', '--token', f.label, '--holder', 'h2', '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...quorum, ...writes])] });
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(replaced.stderr).toMatch(/this is the card this ceremony replaces: it does not count in the quorum/);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ record: { generation: 2 }, unretired: [] });
    // The lost card's record copied onto a blank card: refused as copied, at no PIN and no SO try.
    await blank(['ca-lost-copy']);
    await removeAll();
    const terminal = await openTerminal(f.home);
    try {
      await terminal.readers.start();
      const frame = await withCard(terminal, lost, (c) => c.readSlot('so'));
      if (frame.state !== 'ok') throw new Error('the lost card holds its record');
      await withCard(terminal, 'ca-lost-copy', async (c) => {
        await c.ensureSerial();
        await c.writeSlot('so', frame.body);
      });
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
    await only(['ca-lost-copy', card(f, 'h1')]);
    const flags = tokenFlags(f.serial);
    const login = tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [`${pinOf(card(f, 'h1'))}\n`] });
    expect(login.status).toBe(1);
    expect(login.stderr).toMatch(/replaced on|from an old generation of the card set|written for another card: it was copied/);
    expect(tokenFlags(f.serial)).toBe(flags);
    // The database edited back to generation 1 (its row of generation 2 and that generation's cards
    // deleted): the partition's anchors still say generation 2, and the lost card is refused at no SO try.
    withDatabase(f.home, (db) => {
      db.prepare("DELETE FROM set_cards WHERE generation = 2").run();
      db.prepare("DELETE FROM card_sets WHERE purpose = 'so' AND generation = 2").run();
      db.prepare("UPDATE card_sets SET state = 'active' WHERE purpose = 'so' AND generation = 1").run();
    });
    await only([lost, card(f, 'h1')]);
    const edited = tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [`${pinOf(card(f, 'h1'))}\n`] });
    expect(edited.status).toBe(1);
    expect(edited.stderr).toMatch(/from an old generation of the card set \(1; the current one is 2\)/);
    expect(tokenFlags(f.serial)).toBe(flags);
    expect(refusedLogins(f)).toEqual([]);
  }, 240_000);

  it('a roll call does not report proved a holder whose card holds another holder\'s record, nor a lost card', async () => {
    const f = await fresh('ca-call', 3, 2);
    // h2's record copied over h3's card (h3's own is gone): the card is refused as copied.
    await removeAll();
    const terminal = await openTerminal(f.home);
    try {
      await terminal.readers.start();
      const frame = await withCard(terminal, card(f, 'h2'), (c) => c.readSlot('so'));
      if (frame.state !== 'ok') throw new Error('h2 holds a record');
      await withCard(terminal, card(f, 'h3'), (c) => c.writeSlot('so', frame.body));
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
    await only([card(f, 'h1'), card(f, 'h3')]);
    const proving = readerOrder([card(f, 'h1'), card(f, 'h3')]).filter((c) => c === card(f, 'h1'));
    const call = tessera(['cards', 'roll-call', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [lines(proving)] });
    expect(call.status).toBe(1);
    const report = JSON.parse(call.stdout) as { holders: { holder: string; status: string }[] };
    expect(report.holders.map((h) => [h.holder, h.status])).toEqual([['h1', 'proved'], ['h2', 'missing'], ['h3', 'missing']]);
    expect(call.stderr).toMatch(/written for another card: it was copied/);
  }, 120_000);
});
