// Trust comes from the target partition, never from a backup file or a public object alone
// (docs/trust-model.md). The attack of issue 9: someone with another partition's crypto-officer PIN
// makes a 1-of-1 backup set there, a key labelled and numbered like a production key, backs it up,
// and restores it into the production partition with `--on-conflict replace` and their own card.
// Every refused restore is checked from outside: pkcs11-tool lists the partition's objects (with
// their values' digests where readable) before and after, and they must be identical.
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encapsulate, escrowPublic, fingerprint } from '../../src/core/backup/escrow';
import { type BackupHeader, fileEnd, fileStart, sealEntry, verifyBytes } from '../../src/core/backup/format';
import { setFingerprint } from '../../src/core/quorum/card-set';
import { openDatabase } from '../../src/core/store/database';
import type { BackupReport, CeremonyView, RestoreReport } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { seedPartition } from '../lab/seed';
import { blankCards, confirm, pin, present, removeAll, runCeremony } from './ceremony-driver';
import { lab, openTerminal, pkcs11Tool, tempHome, tessera } from './support';

const tag = Date.now().toString(36);
/** Creates an unmodifiable public data object like an anchor, in a process of its own (argv: module, label, PIN, value). */
const plantScript = `
const p = new (require(${JSON.stringify(join(import.meta.dirname, '../../node_modules/pkcs11js'))}).PKCS11)();
const [, mod, label, pin, value] = process.argv;
const k = require(${JSON.stringify(join(import.meta.dirname, '../../node_modules/pkcs11js'))});
p.load(mod); p.C_Initialize();
const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trimEnd() === label);
const s = p.C_OpenSession(slot, k.CKF_SERIAL_SESSION | k.CKF_RW_SESSION);
p.C_Login(s, k.CKU_USER, pin);
p.C_CreateObject(s, [{ type: k.CKA_CLASS, value: k.CKO_DATA }, { type: k.CKA_TOKEN, value: true }, { type: k.CKA_PRIVATE, value: false }, { type: k.CKA_MODIFIABLE, value: false }, { type: k.CKA_APPLICATION, value: 'Tessera' }, { type: k.CKA_LABEL, value: 'Tessera card set (backup)' }, { type: k.CKA_VALUE, value: Buffer.from(value) }]);
p.C_Logout(s); p.C_Finalize();
`;
const state = lab.state();
const SO_PINS = ['tr-so-ann-1', 'tr-so-ben-2'];
const BK_PIN = 'tr-bk-cid-3';
const DAVE_PIN = 'tr-dave-pin-4';

let target: { label: string; serial: string };
let home: string;
let soCards: string[];
let bkCard: string;
let daveCard: string;
let targetPrint: string;
let otherPrint: string;
let otherFile: string;

/** Everything pkcs11-tool lists in the partition, logged in: any change shows. */
const objectsOf = (label: string): string => pkcs11Tool(['--token-label', label, '--login', '--pin', LAB_USER_PIN, '--list-objects']);

function restoreCli(file: string, pins: string[], extra: string[] = [], who = home): ReturnType<typeof tessera> {
  return tessera(['backup', 'restore', file, '--token', target.label, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--on-conflict', 'replace', '--json', ...extra], { home: who, fds: [`${pins.join('\n')}\n`, `${LAB_USER_PIN}\n`] });
}

async function insert(...holders: string[]): Promise<void> {
  await removeAll();
  for (const h of holders) await lab.insert(h);
}

beforeAll(async () => {
  await removeAll();
  // The production partition: seeded, adopted 2-of-2 (ann, ben), its own 1-of-1 backup set (cid).
  const created = await lab.newPartition(`TR Prod ${tag}`);
  target = { label: created.label, serial: created.serial };
  seedPartition(state.modulePath, state.softhsmConf, target.label, LAB_USER_PIN);
  soCards = await blankCards('tr-so', 2);
  [bkCard] = (await blankCards('tr-bk', 1)) as [string];
  [daveCard] = (await blankCards('tr-dave', 1)) as [string];
  home = tempHome();
  await insert(...soCards);
  const adopted = tessera(['adopt', '--token', target.label, '--holders', 'ann,ben', '--threshold', '2', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20', '--json'], { home, fds: [`${created.soPin}\n`, `${SO_PINS.join('\n')}\n`] });
  expect(adopted.status, adopted.stderr).toBe(0);
  await insert(bkCard);
  const set = tessera(['backup-set', 'create', '--token', target.label, '--holders', 'cid', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--json'], { home, fds: [`${BK_PIN}\n`, `${LAB_USER_PIN}\n`] });
  expect(set.status, set.stderr).toBe(0);
  targetPrint = (JSON.parse(set.stdout) as { fingerprint: string }).fingerprint;

  // The attacker's partition, on the attacker's own terminal: a key like the production one.
  const other = await lab.newPartition(`TR Other ${tag}`);
  seedPartition(state.modulePath, state.softhsmConf, other.label, LAB_USER_PIN);
  const attacker = tempHome();
  await insert(daveCard);
  const otherSet = tessera(['backup-set', 'create', '--token', other.label, '--holders', 'dave', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--json'], { home: attacker, fds: [`${DAVE_PIN}\n`, `${LAB_USER_PIN}\n`] });
  expect(otherSet.status, otherSet.stderr).toBe(0);
  otherPrint = (JSON.parse(otherSet.stdout) as { fingerprint: string }).fingerprint;
  const media = mkdtempSync(join(tmpdir(), 'tessera-usb-trust-'));
  const made = tessera(['backup', 'create', '--token', other.label, '--media', media, '--pin-fd', '3', '--json'], { home: attacker, fds: [`${LAB_USER_PIN}\n`] });
  expect(made.status, made.stderr).toBe(0);
  otherFile = (JSON.parse(made.stdout) as BackupReport).file;
  await removeAll();
}, 240_000);

describe('a restore of a backup made with a set the partition does not trust', () => {
  it('is refused with the attacker\'s card alone, before any card PIN is asked, and nothing changes', async () => {
    const before = objectsOf(target.label);
    await insert(daveCard);
    const result = restoreCli(otherFile, [DAVE_PIN]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/made with a backup set that “TR Prod .*” does not trust/);
    expect(result.stderr).toMatch(/--trust-set/);
    expect(result.stderr).not.toMatch(/type your card PIN|card read/);
    expect(objectsOf(target.label)).toBe(before);
    // The newest restore entry (the crypto officer's logout seals the log after it).
    const audit = JSON.parse(tessera(['audit', 'list', '--limit', '5', '--json'], { home }).stdout) as { action: string; outcome: string }[];
    const entry = audit.find((e) => e.action === 'backup.restore');
    expect(entry).toBeDefined();
    expect(entry?.outcome).not.toBe('ok');
  });

  it('is refused with the fingerprint confirmed but without the partition\'s SO quorum, and nothing changes', async () => {
    const before = objectsOf(target.label);
    await insert(daveCard);
    const result = restoreCli(otherFile, [DAVE_PIN, DAVE_PIN], ['--trust-set', otherPrint]);
    expect(result.status).toBe(1);
    // Dave's card is no SO card of the target: refused before its PIN, and no quorum comes.
    expect(result.stderr).toMatch(/SO card set of “TR Prod/);
    expect(result.stderr).toMatch(/holds no share of the SO card set|not a card of|belongs to/);
    expect(result.stderr).toMatch(/No card came/);
    expect(objectsOf(target.label)).toBe(before);
  });

  it('is refused with a wrong fingerprint (the target\'s own), before any card', async () => {
    const before = objectsOf(target.label);
    await insert(daveCard);
    const result = restoreCli(otherFile, [DAVE_PIN], ['--trust-set', targetPrint]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/The fingerprint given is not the one of the backup set of “TR Other/);
    expect(objectsOf(target.label)).toBe(before);
  });

  it('is refused outright when the target has no SO card set to approve it', async () => {
    const bare = await lab.newPartition(`TR Bare ${tag}`);
    const bareHome = tempHome();
    const [bareCard] = (await blankCards('tr-bare', 1)) as [string];
    await insert(bareCard);
    const set = tessera(['backup-set', 'create', '--token', bare.label, '--holders', 'eve', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4'], { home: bareHome, fds: ['tr-eve-pin-5\n', `${LAB_USER_PIN}\n`] });
    expect(set.status, set.stderr).toBe(0);
    const before = pkcs11Tool(['--token-label', bare.label, '--login', '--pin', LAB_USER_PIN, '--list-objects']);
    await insert(daveCard);
    const result = tessera(['backup', 'restore', otherFile, '--token', bare.label, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--trust-set', otherPrint, '--json'], { home: bareHome, fds: [`${DAVE_PIN}\n`, `${LAB_USER_PIN}\n`] });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the partition has no SO card set to approve it/);
    expect(pkcs11Tool(['--token-label', bare.label, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).toBe(before);
  });

  it('is not trusted because of a row someone added to the terminal\'s database (a "retired" generation of a foreign set)', async () => {
    const header = verifyBytes(readFileSync(otherFile));
    if (!header.valid) throw new Error('the attacker\'s backup must verify');
    const claimed = header.backup.header.backupSet;
    const db = openDatabase(join(home, 'tessera.db'));
    try {
      // The attacker copies their own set's record in, as a retired generation of the target.
      const row = header.backup.header.backupSet;
      db.prepare("INSERT INTO card_sets (set_id, generation, purpose, token_serial, token_label, m, n, descriptor, descriptor_hash, state, created_at) VALUES (?, ?, 'backup', ?, ?, 1, 1, ?, ?, 'retired', ?)").run(row.set, row.generation, target.serial, target.label, JSON.stringify({ v: 1, set: claimed.set, purpose: 'backup', partition: target, generation: claimed.generation, m: 1, n: 1, holders: [{ index: 1, holder: 'dave' }], shareHashes: [], commitment: '', created: header.backup.header.created, backup: { escrowPublic: header.backup.header.escrow.publicKey, signingKey: header.backup.header.signer.publicKey, signingKeyId: header.backup.header.signer.id } }), claimed.descriptorHash, header.backup.header.created);
    } finally {
      db.close();
    }
    const before = objectsOf(target.label);
    await insert(daveCard);
    const result = restoreCli(otherFile, [DAVE_PIN]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/does not trust/);
    expect(objectsOf(target.label)).toBe(before);
  });

  it('needs the SO quorum for a backup that names the partition\'s own set with a generation this terminal never recorded', async () => {
    // Made with the attacker's own keys, claiming the target's public set id at generation 2.
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-gen-'));
    const own = tessera(['backup', 'create', '--token', target.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`] });
    expect(own.status, own.stderr).toBe(0);
    const parsed = verifyBytes(readFileSync((JSON.parse(own.stdout) as BackupReport).file));
    if (!parsed.valid) throw new Error('the backup must verify');
    const h = parsed.backup.header;
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = attacker.publicKey.export({ format: 'der', type: 'spki' });
    const escrowPrivate = randomBytes(32);
    const escrowPub = escrowPublic(escrowPrivate);
    const { ephemeralPublic, keys } = encapsulate(escrowPub);
    const header: BackupHeader = { ...h, backupId: '00000000-0000-4000-8000-000000000002', entries: 1, objects: 1, excluded: 0, ephemeralPublic: ephemeralPublic.toString('base64'), escrow: { publicKey: escrowPub.toString('base64'), fingerprint: fingerprint(escrowPub) }, signer: { publicKey: spki.toString('base64'), fingerprint: fingerprint(spki), id: h.signer.id }, backupSet: { ...h.backupSet, generation: 2 } };
    const body = Buffer.concat([fileStart(header), sealEntry({ kind: 'object', index: 0, class: 'data', label: 'Planted', id: '', keyType: null, attributes: [{ type: 0x1, name: 'token', value: true }, { type: 0x11, name: 'value', value: Buffer.from('attacker data').toString('hex') }] }, keys.contentKey, header.backupId)]);
    const signature = sign('sha256', body, { key: createPrivateKey(attacker.privateKey.export({ format: 'pem', type: 'pkcs8' })), dsaEncoding: 'ieee-p1363' });
    const forged = join(mkdtempSync(join(tmpdir(), 'tessera-gen2-')), 'gen2.tsrbackup');
    writeFileSync(forged, Buffer.concat([body, fileEnd({ entries: 1, sha256: createHash('sha256').update(body).digest('hex'), signature: signature.toString('base64') })]));
    const forgedPrint = setFingerprint({ escrowPublic: header.escrow.publicKey, signingKey: header.signer.publicKey });
    const before = objectsOf(target.label);
    await insert(daveCard);
    const result = restoreCli(forged, [DAVE_PIN], ['--trust-set', forgedPrint]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SO card set of “TR Prod/);
    expect(result.stderr).toMatch(/No card came/);
    expect(objectsOf(target.label)).toBe(before);
  });

  it('needs the SO quorum on an adopted partition that has no backup set yet', async () => {
    const adopted = await lab.newPartition(`TR Adopted ${tag}`);
    const adoptedHome = tempHome();
    const [soCard] = (await blankCards('tr-adopted', 1)) as [string];
    await insert(soCard);
    const adopt = tessera(['adopt', '--token', adopted.label, '--holders', 'gil', '--threshold', '1', '--so-pin-fd', '3', '--pins-from', '4', '--wait', '20'], { home: adoptedHome, fds: [`${adopted.soPin}\n`, 'tr-gil-pin-7\n'] });
    expect(adopt.status, adopt.stderr).toBe(0);
    // A first crypto-officer session makes the partition's audit key (sealed at logout); then the snapshot.
    expect(tessera(['objects', '--token', adopted.label, '--login', '--pin-fd', '3'], { home: adoptedHome, fds: [`${LAB_USER_PIN}\n`] }).status).toBe(0);
    const before = pkcs11Tool(['--token-label', adopted.label, '--login', '--pin', LAB_USER_PIN, '--list-objects']);
    await insert(daveCard);
    const result = tessera(['backup', 'restore', otherFile, '--token', adopted.label, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--trust-set', otherPrint, '--json'], { home: adoptedHome, fds: [`${DAVE_PIN}\n`, `${LAB_USER_PIN}\n`] });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/SO card set of “TR Adopted/);
    expect(pkcs11Tool(['--token-label', adopted.label, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).toBe(before);
  });

  it('goes ahead when the fingerprint is typed from the record and the partition\'s SO quorum approves; the audit names the set and the approvers', async () => {
    const terminal = await openTerminal(home);
    try {
      await terminal.readers.start();
      await terminal.partition.selectByLabel(state.modulePath, target.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      let soNext = 0;
      const typed: string[] = [];
      const view: CeremonyView = await runCeremony(terminal, { kind: 'restore', file: otherFile, onConflict: 'replace' }, async (v) => {
        const p = v.prompt;
        if (p.kind === 'confirm-fingerprint') {
          // A typo first: said where it was typed, and asked again (nobody gets stuck).
          const answer = typed.length === 0 ? 'AAAA-BBBB' : otherPrint.toLowerCase();
          typed.push(answer);
          if (typed.length === 2) expect(p.refusal).toMatch(/That is not the fingerprint of the backup set of “TR Other/);
          return { kind: 'fingerprint', fingerprint: answer };
        }
        if (p.kind === 'insert-card') {
          await present(p.text.includes('SO card set') ? (soCards[soNext++] as string) : daveCard);
          return null;
        }
        if (p.kind === 'enter-pin') return pin(p.holder === 'dave' ? DAVE_PIN : (SO_PINS[p.holder === 'ann' ? 0 : 1] as string));
        if (p.kind === 'confirm') return confirm;
        return null;
      });
      expect(view.error).toBeNull();
      expect(view.result?.kind).toBe('restore');
      const report = (view.result as { report: RestoreReport }).report;
      expect(report.counts.replaced).toBeGreaterThan(0);
      const entry = terminal.audit.list(5).find((e) => e.action === 'backup.restore');
      expect(entry).toMatchObject({ outcome: 'ok', details: { trust: 'fingerprint and SO quorum', setFingerprint: otherPrint, approvedBy: 'ann, ben', holders: 'dave' } });
      expect(String(entry?.details.approverCards)).toMatch(/,/);
    } finally {
      await removeAll(terminal);
      await terminal.close();
    }
  });

  it('restores the partition\'s own backups without any fingerprint (its recorded set)', async () => {
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-own-'));
    const made = tessera(['backup', 'create', '--token', target.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`] });
    expect(made.status, made.stderr).toBe(0);
    await insert(bkCard);
    const result = tessera(['backup', 'restore', (JSON.parse(made.stdout) as BackupReport).file, '--token', target.label, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--json'], { home, fds: [`${BK_PIN}\n`, `${LAB_USER_PIN}\n`] });
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as RestoreReport).counts.failed).toBe(0);
    const entry = (JSON.parse(tessera(['audit', 'list', '--limit', '5', '--json'], { home }).stdout) as { action: string; details: Record<string, unknown> }[]).find((e) => e.action === 'backup.restore');
    expect(entry?.details).toMatchObject({ trust: 'trusted', setFingerprint: targetPrint });
  });
});

describe('anchors and a terminal without its database', () => {
  const anchorIds = (label: string): string[] =>
    pkcs11Tool(['--token-label', label, '--list-objects', '--type', 'data'])
      .split(/\n(?=Data object)/)
      .filter((block) => block.includes('Tessera card set'))
      .map((block) => (block.match(/label:\s+(.*)/)?.[1] ?? '').replace(/^'|'$/g, ''));

  it('the partition\'s anchors cannot be destroyed by anyone with a session (CKA_DESTROYABLE false), and the audit log says so', () => {
    expect(anchorIds(target.label).sort()).toEqual(['Tessera card set (backup)', 'Tessera card set (so)']);
    const destroyed = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', target.label, '--login', '--pin', LAB_USER_PIN, '--delete-object', '--type', 'data', '--label', 'Tessera card set (backup)'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
    expect(destroyed.status).not.toBe(0);
    expect(anchorIds(target.label)).toContain('Tessera card set (backup)');
    const audit = JSON.parse(tessera(['audit', 'list', '--limit', '200', '--json'], { home }).stdout) as { action: string; details: Record<string, unknown> }[];
    expect(audit.find((e) => e.action === 'backupset.create')?.details).toMatchObject({ anchor: 'unmodifiable, undestroyable', setFingerprint: targetPrint });
    expect(audit.find((e) => e.action === 'cardset.enrol')?.details).toMatchObject({ anchor: 'unmodifiable, undestroyable' });
  });

  it('a terminal with no record of the backup set backs up only after the set\'s fingerprint is confirmed', () => {
    const newcomer = tempHome();
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-newcomer-'));
    const backup = (extra: string[]): ReturnType<typeof tessera> => tessera(['backup', 'create', '--token', target.label, '--media', media, '--pin-fd', '3', '--json', ...extra], { home: newcomer, fds: [`${LAB_USER_PIN}\n`] });
    const none = backup([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no record of the backup set of “TR Prod/);
    expect(none.stderr).toMatch(/--trust-set/);
    const wrong = backup(['--trust-set', otherPrint]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/The fingerprint given is not the one of the backup set of “TR Prod.*Nothing was written/);
    expect(spawnSync('ls', [media], { encoding: 'utf8' }).stdout.trim()).toBe('');
    const right = backup(['--trust-set', targetPrint.toLowerCase().replace(/-/g, ' ')]);
    expect(right.status, right.stderr).toBe(0);
    // Vouched for once, recorded: the next backup needs no fingerprint.
    const again = backup([]);
    expect(again.status, again.stderr).toBe(0);
  });

  it('a backup-set intent forged into the database never chooses the key new backups are encrypted to', () => {
    const db = openDatabase(join(home, 'tessera.db'));
    try {
      const row = db.prepare("SELECT descriptor FROM card_sets WHERE token_serial = ? AND purpose = 'backup' AND state = 'active'").get(target.serial) as { descriptor: string };
      const descriptor = JSON.parse(row.descriptor) as { backup: { escrowPublic: string } };
      descriptor.backup.escrowPublic = escrowPublic(randomBytes(32)).toString('base64');
      const now = new Date().toISOString();
      db.prepare('INSERT INTO intents (kind, step, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run('backup-set', 'signing-key', JSON.stringify({ descriptor, cards: {} }), now, now);
    } finally {
      db.close();
    }
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-intent-'));
    const made = tessera(['backup', 'create', '--token', target.label, '--media', media, '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`] });
    expect(made.status, made.stderr).toBe(0);
    expect((JSON.parse(made.stdout) as BackupReport).setFingerprint).toBe(targetPrint);
  });

  it('a second anchor planted beside the partition\'s stops backups, on its terminal and on one without a record, with the conflict named', async () => {
    const planted = await lab.newPartition(`TR Plant ${tag}`);
    const plantHome = tempHome();
    const [plantCard] = (await blankCards('tr-plant', 1)) as [string];
    await insert(plantCard);
    expect(tessera(['backup-set', 'create', '--token', planted.label, '--holders', 'fay', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4'], { home: plantHome, fds: ['tr-fay-pin-6\n', `${LAB_USER_PIN}\n`] }).status).toBe(0);
    // Anyone with a session can add a public data object with the anchor's application and label
    // (a modifiable one is ignored: pkcs11-tool's default; this one is made unmodifiable, like ours).
    const value = JSON.stringify({ set: 'ab'.repeat(16), generation: 1, descriptor: 'cd'.repeat(32) });
    const lazy = join(mkdtempSync(join(tmpdir(), 'tessera-plant-')), 'anchor.json');
    writeFileSync(lazy, value);
    const modifiable = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', planted.label, '--login', '--pin', LAB_USER_PIN, '--write-object', lazy, '--type', 'data', '--label', 'Tessera card set (backup)', '--application-label', 'Tessera'], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
    expect(modifiable.status, modifiable.stderr).toBe(0);
    expect(tessera(['backup-set', 'show', '--token', planted.label, '--json'], { home: plantHome }).status).toBe(0);
    const wrote = spawnSync(process.execPath, ['-e', plantScript, state.modulePath, planted.label, LAB_USER_PIN, value], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
    expect(wrote.status, wrote.stderr).toBe(0);
    const media = mkdtempSync(join(tmpdir(), 'tessera-usb-plant-'));
    for (const who of [plantHome, tempHome()]) {
      const made = tessera(['backup', 'create', '--token', planted.label, '--media', media, '--pin-fd', '3', '--trust-set', otherPrint], { home: who, fds: [`${LAB_USER_PIN}\n`] });
      expect(made.status).toBe(1);
      expect(made.stderr).toMatch(/more than one backup-set record/);
    }
  });
});
