// Credentials on the lab, through the CLI as officers (and automated checks) run it: SO rotation
// with holders and m changed, a lost card replaced, a roll call, the backup set re-split and rotated,
// and the process killed (SIGKILL) at every step of a rotation. Checked from outside: pkcs11-tool for
// the token's flags, the next start's recovery, and which quorum logs in.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeAll } from './ceremony-driver';
import { lab, pkcs11Tool, tempHome, tessera } from './support';

const pinOf = (card: string): string => `pin-${card}-77`;

/** The cards in the order the CLI takes them (reader order). */
function readerOrder(cards: string[]): string[] {
  const reader = (c: string): string => lab.state().cards.find((x) => x.holder === c)?.reader ?? '';
  return [...cards].sort((a, b) => reader(a).localeCompare(reader(b)));
}
const lines = (cards: string[]): string => `${cards.map(pinOf).join('\n')}\n`;

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

/** A fresh partition adopted m-of-n onto blank cards `${prefix}-1…`; holder i is named h1, h2, … */
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

function soLogin(f: Fresh, cards: string[], wait = 20): ReturnType<typeof tessera> {
  return tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', String(wait), '--json'], { home: f.home, fds: [lines(readerOrder(cards))] });
}

/** Token flags as OpenSC's pkcs11-tool prints them. */
function tokenFlags(serial: string): string {
  const block = pkcs11Tool(['--list-token-slots']).split(/\nSlot /).find((b) => b.includes(`serial num         : ${serial}`));
  return /token flags\s+: (.*)/.exec(block ?? '')?.[1] ?? '';
}

function soPinWorks(f: Fresh, soPin: string): boolean {
  const state = lab.state();
  const result = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', f.label, '--login', '--login-type', 'so', '--so-pin', soPin, '--list-objects'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
  return result.status === 0;
}

describe('SO credential rotation', () => {
  it('changes a 2-of-3 set to 3-of-4 with a blank card for the new holder: 2 cards no longer log in, 3 do, the old SO PIN is gone', async () => {
    const f = await fresh('rot', 3, 2);
    await blank(['rot-new']);
    const all = [...f.cardOf.values(), 'rot-new'];
    await only(all);
    const order = readerOrder(all);
    // Quorum: the first two old cards in reader order; then every card of the new generation.
    const quorum = order.filter((c) => c !== 'rot-new').slice(0, 2);
    const rotated = tessera(['so-rotate', '--token', f.label, '--holders', 'h1,h2,h3,dan', '--threshold', '3', '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...quorum, ...order])] });
    expect(rotated.status, rotated.stderr).toBe(0);
    const report = JSON.parse(rotated.stdout) as { from: number; record: { generation: number; m: number; n: number; cards: { holder: string }[] }; unretired: string[] };
    expect(report).toMatchObject({ from: 1, record: { generation: 2, m: 3, n: 4 }, unretired: [] });
    expect(report.record.cards.map((c) => c.holder)).toEqual(['h1', 'h2', 'h3', 'dan']);
    expect(soPinWorks(f, f.soPin)).toBe(false);

    // Two cards of the new generation are not a quorum any more: the CLI waits for a third, then gives up.
    const two = [f.cardOf.get('h1') as string, 'rot-new'];
    await only(two);
    const short = soLogin(f, two, 4);
    expect(short.status).toBe(1);
    expect(JSON.parse(short.stdout)).toMatchObject({ loggedIn: false, error: { code: 'CARD_ABSENT' } });
    const three = [f.cardOf.get('h1') as string, f.cardOf.get('h3') as string, 'rot-new'];
    await only(three);
    const login = soLogin(f, three);
    expect(login.status, login.stderr).toBe(0);
    expect(tokenFlags(f.serial)).not.toMatch(/SO PIN count low|SO PIN final try|SO PIN locked/i);
    // The anchors on the partition: generation 1, and generation 2 endorsed by it (both unmodifiable).
    const audit = JSON.parse(tessera(['audit', 'list', '--json', '--limit', '40'], { home: f.home }).stdout) as { action: string; details: Record<string, unknown> }[];
    expect(audit.find((e) => e.action === 'cardset.rotate')).toMatchObject({ details: { from: 1, generation: 2, m: 3, n: 4, anchor: 'unmodifiable, undestroyable' } });
  }, 240_000);

  it('replaces a lost card: the old card is refused before its PIN, named with the date, at no SO try; the others and the new card log in', async () => {
    const f = await fresh('rep', 3, 2);
    const lost = f.cardOf.get('h2') as string;
    await blank(['rep-new']);
    const present = [f.cardOf.get('h1') as string, f.cardOf.get('h3') as string, 'rep-new'];
    await only(present);
    const order = readerOrder(present);
    const quorum = order.filter((c) => c !== 'rep-new');
    const replaced = tessera(['cards', 'replace', '--token', f.label, '--holder', 'h2', '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...quorum, ...order])] });
    expect(replaced.status, replaced.stderr).toBe(0);
    const report = JSON.parse(replaced.stdout) as { replaced: { holder: string; card: string | null }[]; record: { cards: { holder: string }[] } };
    expect(report.replaced).toEqual([{ holder: 'h2', card: expect.stringMatching(/^[0-9a-f]{32}$/) }]);
    expect(report.record.cards.map((c) => c.holder)).toEqual(['h1', 'h2', 'h3']);

    // The lost card turns up: refused at once, no PIN asked (its PIN line is never read), no SO try.
    await only([lost, f.cardOf.get('h1') as string]);
    const before = tokenFlags(f.serial);
    const refused = tessera(['so-login', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [`${pinOf(f.cardOf.get('h1') as string)}\n`] });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`This card was replaced on ${new Date().toISOString().slice(0, 10)} \\(generation 2\\)`));
    expect(tokenFlags(f.serial)).toBe(before);
    const check = JSON.parse(tessera(['cards', 'check', '--token', f.label, '--json', '--wait', '10'], { home: f.home }).stdout) as { current: boolean };
    expect(check.current).toBe(false);
    await only([f.cardOf.get('h1') as string, 'rep-new']);
    const login = soLogin(f, [f.cardOf.get('h1') as string, 'rep-new']);
    expect(login.status, login.stderr).toBe(0);
    expect(tokenFlags(f.serial)).not.toMatch(/SO PIN count low/i);
  }, 240_000);

  it('a roll call proves every card, names the missing holder and the stale card', async () => {
    const f = await fresh('call', 3, 2);
    await blank(['call-new']);
    const keep = [f.cardOf.get('h1') as string, f.cardOf.get('h2') as string, 'call-new'];
    await only(keep);
    const order = readerOrder(keep);
    const replaced = tessera(['cards', 'replace', '--token', f.label, '--holder', 'h3', '--pins-from', '3', '--wait', '20'], { home: f.home, fds: [lines([...order.filter((c) => c !== 'call-new'), ...order])] });
    expect(replaced.status, replaced.stderr).toBe(0);
    // Everyone but h2 comes; h3 brings the old (replaced) card as well as the new one.
    const come = [f.cardOf.get('h1') as string, f.cardOf.get('h3') as string, 'call-new'];
    await only(come);
    const proving = readerOrder(come).filter((c) => c !== f.cardOf.get('h3'));
    const call = tessera(['cards', 'roll-call', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [lines(proving)] });
    expect(call.stdout, call.stderr).not.toBe("");
    expect(call.status).toBe(1);
    const report = JSON.parse(call.stdout) as { holders: { holder: string; status: string }[]; missing: string[]; quorumChecked: boolean };
    expect(report.holders.map((h) => [h.holder, h.status])).toEqual([['h1', 'proved'], ['h2', 'missing'], ['h3', 'proved']]);
    expect(report.quorumChecked).toBe(true);
    // With h2 and without h3's new card, the old card makes h3 stale.
    const stale = [f.cardOf.get('h1') as string, f.cardOf.get('h2') as string, f.cardOf.get('h3') as string];
    await only(stale);
    const second = tessera(['cards', 'roll-call', '--token', f.label, '--pins-from', '3', '--wait', '4', '--json'], { home: f.home, fds: [lines(readerOrder(stale).filter((c) => c !== f.cardOf.get('h3')))] });
    const again = JSON.parse(second.stdout) as { holders: { holder: string; status: string; detail: string | null }[]; stale: string[] };
    expect(again.stale).toEqual(['h3']);
    expect(again.holders.find((h) => h.holder === 'h3')?.detail).toMatch(/replaced on/);
  }, 240_000);
});

describe('a rotation killed at each step', () => {
  const steps = ['so-rotate:started', 'so-rotate:card-1', 'so-rotate:card-4', 'so-rotate:before-set-pin', 'so-rotate:inside-set-pin', 'so-rotate:after-set-pin', 'so-rotate:after-anchor', 'so-rotate:retired-1'];
  it.each(steps)('%s: the next start finishes or rolls back, and a quorum logs in', async (step) => {
    const f = await fresh(`kill-${steps.indexOf(step)}`, 3, 2);
    const extra = `kill-${steps.indexOf(step)}-new`;
    await blank([extra]);
    const all = [...f.cardOf.values(), extra];
    await only(all);
    const order = readerOrder(all);
    const quorum = order.filter((c) => c !== extra).slice(0, 2);
    const crashed = tessera(['so-rotate', '--token', f.label, '--holders', 'h1,h2,h3,dan', '--threshold', '3', '--pins-from', '3', '--wait', '20', '--json'], { home: f.home, fds: [lines([...quorum, ...order])], env: { TESSERA_TEST_CRASH_AT: step } });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const next = tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home });
    expect(next.status, next.stderr).toBe(0);
    const changed = ['so-rotate:inside-set-pin', 'so-rotate:after-set-pin', 'so-rotate:after-anchor', 'so-rotate:retired-1'].includes(step);
    const probe = step === 'so-rotate:before-set-pin';
    if (step === 'so-rotate:started' || step.startsWith('so-rotate:card-')) expect(next.stderr).toMatch(/rolled back: generation 1 is still in force/);
    if (step === 'so-rotate:after-anchor') expect(next.stderr).toMatch(/It is finished: generation 2 is in force/);
    if (step.endsWith('set-pin') && step !== 'so-rotate:after-set-pin') expect(next.stderr).toMatch(/inside the change of the SO PIN/);
    // All four cards in the readers: the quorum the terminal now trusts is taken from them.
    const login = soLogin(f, all);
    if (probe) {
      // One probe with the new cards: refused, explained, rolled back; then the old generation logs in.
      expect(login.status).toBe(1);
      expect(login.stdout).toMatch(/had not changed it: that one refused try was the probe/);
      const again = soLogin(f, all);
      expect(again.status, again.stderr).toBe(0);
    } else {
      expect(login.status, `${login.stdout}\n${login.stderr}`).toBe(0);
      expect(tokenFlags(f.serial)).not.toMatch(/SO PIN count low/i);
    }
    expect(soPinWorks(f, f.soPin)).toBe(false);
    const listed = JSON.parse(tessera(['cards', 'list', '--token', f.label, '--json'], { home: f.home }).stdout) as { generation: number; m: number; n: number };
    expect(listed).toMatchObject(changed ? { generation: 2, m: 3, n: 4 } : { generation: 1, m: 2, n: 3 });
  }, 240_000);
});

describe('a backup-set rotation killed at each step', () => {
  it.each(['backup-set-rotate:started', 'backup-set-rotate:card-2', 'backup-set-rotate:after-anchor', 'backup-set-rotate:retired-1'])('%s: the next start finishes or rolls back, and a quorum reads the backup', async (step) => {
    await removeAll();
    const created = await lab.newPartition(`BKK ${Date.now().toString(36)}`);
    const home = tempHome();
    const cards = ['bkk-1', 'bkk-2', 'bkk-3'];
    await blank(cards);
    await only(cards);
    const order = readerOrder(cards);
    const userPin = `${created.userPin}\n`;
    expect(tessera(['backup-set', 'create', '--token', created.label, '--holders', 'h1,h2,h3', '--threshold', '2', '--pins-from', '3', '--pin-fd', '4'], { home, fds: [lines(order), userPin] }).status).toBe(0);
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-'));
    const made = tessera(['backup', 'create', '--token', created.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [userPin] });
    expect(made.status, made.stderr).toBe(0);
    const file = (JSON.parse(made.stdout) as { path: string }).path;
    // Re-split 2-of-3 onto 3-of-3 with the same holders, killed at `step`.
    const crashed = tessera(['backup-set', 'rotate', '--token', created.label, '--threshold', '3', '--pin-fd', '3', '--pins-from', '4', '--wait', '20'], { home, fds: [userPin, lines([...order.slice(0, 2), ...order])], env: { TESSERA_TEST_CRASH_AT: step } });
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    const changed = step.endsWith('after-anchor') || step.includes('retired');
    const next = tessera(['backup-set', 'show', '--token', created.label, '--json'], { home });
    expect(next.status, next.stderr).toBe(0);
    if (!changed) expect(next.stderr).toMatch(/rolled back: generation 1 is still in force/);
    if (step.endsWith('after-anchor')) expect(next.stderr).toMatch(/It is finished: generation 2 is in force/);
    // With 2 cards: enough for generation 1, not for generation 2 (3 of 3).
    const two = order.slice(0, 2);
    await only(two);
    const read = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '4', '--json'], { home, fds: [lines(readerOrder(two))] });
    expect(read.status, read.stderr).toBe(changed ? 1 : 0);
    if (changed) {
      await only(cards);
      const all = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '4', '--json'], { home, fds: [lines(order)] });
      expect(all.status, all.stderr).toBe(0);
    }
  }, 240_000);
});

describe('the backup key set', () => {
  it('re-splits the escrow key to replace a lost card: an older backup is read with the new cards, the lost card is refused; a new escrow key names the backups that need the old cards', async () => {
    await removeAll();
    const created = await lab.newPartition(`BKR ${Date.now().toString(36)}`);
    const home = tempHome();
    const cards = ['bkr-1', 'bkr-2', 'bkr-3'];
    await blank(cards);
    await only(cards);
    const order = readerOrder(cards);
    const cardOf = new Map(order.map((c, i) => [`h${i + 1}`, c]));
    const userPin = `${created.userPin}\n`;
    const set = tessera(['backup-set', 'create', '--token', created.label, '--holders', 'h1,h2,h3', '--threshold', '2', '--pins-from', '3', '--pin-fd', '4', '--json'], { home, fds: [lines(order), userPin] });
    expect(set.status, set.stderr).toBe(0);
    const fingerprint = (JSON.parse(set.stdout) as { fingerprint: string }).fingerprint;
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-'));
    const made = tessera(['backup', 'create', '--token', created.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [userPin] });
    expect(made.status, made.stderr).toBe(0);
    const file = (JSON.parse(made.stdout) as { path: string }).path;

    // h2's card is lost: h1 and h3 approve, h2 gets a blank card.
    const lost = cardOf.get('h2') as string;
    await blank(['bkr-new']);
    const present = [cardOf.get('h1') as string, cardOf.get('h3') as string, 'bkr-new'];
    await only(present);
    const now = readerOrder(present);
    const replaced = tessera(['backup-set', 'replace-card', '--token', created.label, '--holder', 'h2', '--pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [userPin, lines([...now.filter((c) => c !== 'bkr-new'), ...now])] });
    expect(replaced.status, replaced.stderr).toBe(0);
    const report = JSON.parse(replaced.stdout) as { escrow: string; record: { generation: number; fingerprint: string } };
    // Same escrow and signing key: the fingerprint on the enrolment record in the safe stays right.
    expect(report).toMatchObject({ escrow: 'kept', record: { generation: 2, fingerprint } });

    // The backup made with generation 1 is read with h2's new card and h1's kept card.
    const reading = [cardOf.get('h1') as string, 'bkr-new'];
    await only(reading);
    const listed = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '4', '--json'], { home, fds: [lines(readerOrder(reading))] });
    expect(listed.status, listed.stderr).toBe(0);
    // The lost card, with a kept one: refused before its PIN, named as replaced.
    const withLost = [lost, cardOf.get('h3') as string];
    await only(withLost);
    const refused = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '4', '--json'], { home, fds: [`${pinOf(cardOf.get('h3') as string)}\n`] });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/This card was replaced on .* \(generation 2\)/);

    // A full rotation: a new escrow key; the backup above is named as needing the old cards.
    const again = [cardOf.get('h1') as string, cardOf.get('h3') as string, 'bkr-new'];
    await only(again);
    const o = readerOrder(again);
    const rotated = tessera(['backup-set', 'rotate', '--token', created.label, '--new-escrow-key', '--pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [userPin, lines([...o.slice(0, 2), ...o])] });
    expect(rotated.status, rotated.stderr).toBe(0);
    const full = JSON.parse(rotated.stdout) as { escrow: string; needOldCards: string[]; record: { generation: number; fingerprint: string } };
    expect(full).toMatchObject({ escrow: 'new', record: { generation: 3 } });
    expect(full.record.fingerprint).not.toBe(fingerprint);
    expect(full.needOldCards).toEqual([basename(file)]);
    // New backups go to the new escrow key and are read with generation 3.
    const next = tessera(['backup', 'create', '--token', created.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [userPin] });
    expect(next.status, next.stderr).toBe(0);
    const nextFile = (JSON.parse(next.stdout) as { path: string }).path;
    await only(reading);
    const read = tessera(['backup', 'list', nextFile, '--pins-from', '3', '--wait', '4', '--json'], { home, fds: [lines(readerOrder(reading))] });
    expect(read.status, read.stderr).toBe(0);
  }, 300_000);
});
