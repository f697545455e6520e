// Offline backup and restore against the lab, through the `tessera` command as officers and
// automation run it: a seeded partition, its backup key set on emulated cards, backups on a media
// folder (and a real, small tmpfs for "full"), restores into fresh partitions. What a restore did
// is checked from outside: pkcs11-tool counts objects, and a separate pkcs11js process proves
// every restored key against the original partition's keys.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decapsulate, encapsulate, fingerprint } from '../../src/core/backup/escrow';
import { binding, parseRecord } from '../../src/core/quorum/card-record';
import { combineShares } from '../../src/core/quorum/card-set';
import { unseal } from '../../src/core/quorum/seal';
import { type BackupHeader, fileEnd, fileStart, sealEntry, verifyBytes } from '../../src/core/backup/format';
import { verifyBackupFile } from '../../src/core/backup/verify';
import { AUDIT_KEY_LABEL } from '../../src/core/partition/audit-key';
import type { BackupReport, BackupVerification, RestoreReport } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { proveKeys } from '../lab/key-proof';
import { addDatedKey, seedPartition } from '../lab/seed';
import { blankCards, confirm, removeAll, runCeremony, withCard } from './ceremony-driver';
import { type ListedObject, lab, openTerminal, parseObjectList, pkcs11Tool, tempHome, tessera } from './support';

const state = lab.state();
const cardPins = ['bk-pin-ann-1', 'bk-pin-ben-2', 'bk-pin-cid-3'];
const tag = Date.now().toString(36);
let source: { label: string; serial: string };
let cards: string[];
let home: string;
let media: string;
let file: string;
let report: BackupReport & { path: string; objectsBackedUp: number };
/** The backup set's fingerprint, as its enrolment record prints it: fresh partitions restore only with it. */
let setPrint: string;

const listed = (label: string): ListedObject[] => parseObjectList(pkcs11Tool(['--token-label', label, '--login', '--pin', LAB_USER_PIN, '--list-objects']));
// A partition's audit key (both halves) is made when a crypto-officer session on it ends, as the restore's does: it is never backed up nor restored.
const restorable = (label: string): ListedObject[] => listed(label).filter((o) => o.label !== AUDIT_KEY_LABEL);
const objectsIn = (label: string): number => restorable(label).length;
const fresh = async (name: string): Promise<string> => (await lab.newPartition(`${name} ${tag}`.slice(0, 32))).label;

async function insert(...holders: string[]): Promise<void> {
  await removeAll();
  for (const h of holders) await lab.insert(h);
}

/** A restore into a partition that trusts no backup set: the officers confirm the set's fingerprint (`trust`). */
function restore(backup: string, target: string, pins: string[], extra: string[] = [], env: Record<string, string> = {}, trust: string | null = setPrint): ReturnType<typeof tessera> {
  return tessera(['backup', 'restore', backup, '--token', target, '--pins-from', '3', '--pin-fd', '4', '--wait', '4', '--json', ...(trust ? ['--trust-set', trust] : []), ...extra], { home, fds: [`${pins.join('\n')}\n`, `${LAB_USER_PIN}\n`], env });
}

function backupTo(folder: string, env: Record<string, string> = {}, label = source.label): ReturnType<typeof tessera> {
  return tessera(['backup', 'create', '--token', label, '--media', folder, '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`], env });
}

beforeAll(async () => {
  await removeAll();
  const created = await lab.newPartition(`BK Source ${tag}`);
  source = { label: created.label, serial: created.serial };
  seedPartition(state.modulePath, state.softhsmConf, source.label, LAB_USER_PIN);
  cards = await blankCards('bk', 3);
  await insert(...cards);
  home = tempHome();
  const set = tessera(['backup-set', 'create', '--token', source.label, '--holders', 'ann,ben,cid', '--threshold', '2', '--pins-from', '3', '--pin-fd', '4', '--json'], { home, fds: [`${cardPins.join('\n')}\n`, `${LAB_USER_PIN}\n`] });
  expect(set.status, set.stderr).toBe(0);
  setPrint = (JSON.parse(set.stdout) as { fingerprint: string }).fingerprint;
  expect(setPrint).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/);
  media = mkdtempSync(join(tmpdir(), 'tessera-usb-'));
  const made = backupTo(media);
  expect(made.status, made.stderr).toBe(0);
  report = JSON.parse(made.stdout) as typeof report;
  file = report.path;
}, 120_000);

describe('backup', () => {
  it('backs up every extractable object, names what stays out and why, and leaves a verified file and manifest', () => {
    expect(report.objectsBackedUp).toBe(report.objects);
    const left = new Map(report.left.map((l) => [`${l.class} ${l.label}`, l.reason ?? '']));
    for (const key of ['private-key Code Signing Root', 'private-key Document Signing EC', 'secret-key Master Key Encryption Key (MKEK)']) expect(left.get(key)).toMatch(/^Not extractable/);
    expect(left.get('private-key Tessera backup-signing key')).toMatch(/stays in its partition/);
    // The audit key was made when the backup-set ceremony's crypto-officer session ended: never offered for backup.
    for (const half of ['private-key', 'public-key']) expect(left.get(`${half} ${AUDIT_KEY_LABEL}`)).toMatch(/^The partition's audit key/);
    // Everything the crypto officer sees is either in the backup or named as left out.
    expect(report.objects + report.excluded).toBe(listed(source.label).length);
    expect(readdirSync(media).sort()).toEqual([basename(file), `${basename(file)}.manifest.json`]);
    const bytes = readFileSync(file);
    // Labels, attributes and keys are encrypted: nothing of the partition's content reads in clear.
    for (const secret of ['Signing Key 2026', 'Partition Notes', 'Training partition', LAB_USER_PIN, ...cardPins]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as { objects: number; sha256: string; partition: { serial: string } };
    expect(manifest).toMatchObject({ objects: report.objects, sha256: report.sha256, partition: { serial: source.serial } });
    const audit = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as { action: string; outcome: string }[];
    expect(audit.map((e) => `${e.action}:${e.outcome}`)).toEqual(expect.arrayContaining(['backup.create:ok', 'backupset.create:ok']));
  });

  it('reads the backup and its manifest back from the stick itself (O_DIRECT), not from the page cache', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-direct-'));
    const trace = join(mkdtempSync(join(tmpdir(), 'tessera-trace-')), 'openat.txt');
    const made = tessera(['backup', 'create', '--token', source.label, '--media', folder, '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`], under: ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', trace] });
    expect(made.status, made.stderr).toBe(0);
    const path = (JSON.parse(made.stdout) as BackupReport).file;
    const opens = readFileSync(trace, 'utf8').split('\n');
    const direct = (name: string): string[] => opens.filter((l) => l.includes(`"${name}"`) && /O_DIRECT/.test(l) && !/O_WRONLY|O_RDWR/.test(l));
    expect(direct(path).length, 'the backup is read back with O_DIRECT').toBeGreaterThan(0);
    expect(direct(`${path}.manifest.json`).length, 'the manifest is read back with O_DIRECT').toBeGreaterThan(0);
  });

  it('verifies anywhere without cards (and against the partition with --token)', () => {
    const plain = tessera(['backup', 'verify', file, '--json'], { home: tempHome() });
    expect(plain.status).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ valid: true, signerChecked: false, manifest: 'agrees', backup: { objects: report.objects, partition: { serial: source.serial }, setFingerprint: setPrint } });
    // Without a partition to check against, a valid signature proves only that the file is whole.
    const words = tessera(['backup', 'verify', file], { home: tempHome() });
    expect(words.status).toBe(0);
    expect(words.stdout).toMatch(/The signature is valid, but the signer is unchecked/);
    expect(words.stdout).not.toMatch(/Signed by/);
    const against = tessera(['backup', 'verify', file, '--token', source.label, '--json'], { home: tempHome() });
    expect(JSON.parse(against.stdout)).toMatchObject({ valid: true, ofPartition: true, signerChecked: true });
    expect(tessera(['backup', 'verify', file, '--token', source.label], { home: tempHome() }).stdout).toMatch(/Signed by the backup-signing key of partition “BK Source/);
    // The file carries everything itself: without its manifest it is still valid, and the missing manifest is said.
    const alone = join(mkdtempSync(join(tmpdir(), 'tessera-alone-')), basename(file));
    copyFileSync(file, alone);
    expect(JSON.parse(tessera(['backup', 'verify', alone, '--json'], { home: tempHome() }).stdout)).toMatchObject({ valid: true, manifest: 'missing' });
  });

  it('restores into a fresh partition with 2 of 3 cards; every restored key proves itself against the original', async () => {
    const target = await fresh('BK Fresh');
    await insert(cards[2] as string, cards[0] as string);
    const result = restore(file, target, [cardPins[2] as string, cardPins[0] as string]);
    expect(result.status, result.stderr).toBe(0);
    const r = JSON.parse(result.stdout) as RestoreReport;
    expect(r.counts).toMatchObject({ restored: report.objects, failed: 0, excluded: report.excluded });
    expect(objectsIn(target)).toBe(report.objects);
    for (const o of r.objects.filter((x) => x.class === 'private-key' || x.class === 'secret-key').filter((x) => x.outcome === 'restored')) expect(o.check, o.label).toMatch(/^passed/);
    // SoftHSM2 does not keep these on unwrapped keys: reported, not hidden.
    expect(r.objects.find((o) => o.label === 'Signing Key 2026' && o.class === 'private-key')?.notPreserved.join('; ')).toMatch(/CKA_LOCAL \(local\): yes in the backup; the partition reports no for the restored object/);
    const proof = proveKeys(state.modulePath, state.softhsmConf, source.label, target, LAB_USER_PIN);
    expect(proof).toEqual({ '01': 'signature verified', '02': 'signature verified', '11': 'signature verified', '13': 'signature verified', '22': 'decrypted', '23': 'decrypted' });
  });

  it('restores only the objects asked for; skips a conflict unless told to replace it', async () => {
    const target = await fresh('BK Only');
    await insert(cards[0] as string, cards[1] as string);
    const only = restore(file, target, [cardPins[0] as string, cardPins[1] as string], ['--only', '22,30']);
    expect(only.status, only.stderr).toBe(0);
    expect((JSON.parse(only.stdout) as RestoreReport).counts).toMatchObject({ restored: 2 });
    expect(restorable(target).map((o) => o.id).sort()).toEqual(['22', '30']);
    // A different key under the Data Encryption Key's id and label: a conflict.
    pkcs11Tool(['--token-label', target, '--login', '--pin', LAB_USER_PIN, '--delete-object', '--type', 'secrkey', '--id', '22']);
    pkcs11Tool(['--token-label', target, '--login', '--pin', LAB_USER_PIN, '--keygen', '--key-type', 'AES:32', '--id', '22', '--label', 'Data Encryption Key', '--extractable']);
    await insert(cards[0] as string, cards[1] as string);
    const skipped = JSON.parse(restore(file, target, [cardPins[0] as string, cardPins[1] as string], ['--only', '22']).stdout) as RestoreReport;
    expect(skipped.objects.find((o) => o.id === '22')).toMatchObject({ outcome: 'skipped', state: 'conflict' });
    await insert(cards[0] as string, cards[1] as string);
    const replaced = JSON.parse(restore(file, target, [cardPins[0] as string, cardPins[1] as string], ['--only', '22', '--on-conflict', 'replace']).stdout) as RestoreReport;
    expect(replaced.objects.find((o) => o.id === '22')).toMatchObject({ outcome: 'replaced' });
    expect(parseObjectList(pkcs11Tool(['--token-label', target, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).filter((o) => o.id === '22')).toHaveLength(1);
    expect(proveKeys(state.modulePath, state.softhsmConf, source.label, target, LAB_USER_PIN)['22']).toBe('decrypted');
  });

  it('completes a restore killed half way when it is run again, without duplicating anything', async () => {
    const target = await fresh('BK Killed');
    await insert(cards[0] as string, cards[1] as string);
    const killed = restore(file, target, [cardPins[0] as string, cardPins[1] as string], [], { TESSERA_TEST_CRASH_AT: 'restore:object-5' });
    expect(killed.signal).toBe('SIGKILL');
    const partial = objectsIn(target);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(report.objects);
    await insert(cards[0] as string, cards[1] as string);
    const again = restore(file, target, [cardPins[0] as string, cardPins[1] as string]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/restore of backup .* was interrupted/);
    const r = JSON.parse(again.stdout) as RestoreReport;
    expect(r.counts['already-present']).toBe(partial);
    expect(r.counts.restored).toBe(report.objects - partial);
    expect(objectsIn(target)).toBe(report.objects);
  });

  it('lists the full contents only with a quorum of the backup-set cards', async () => {
    await insert(cards[1] as string, cards[2] as string);
    const listed = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '4', '--json'], { home: tempHome(), fds: [`${cardPins[1]}\n${cardPins[2]}\n`] });
    expect(listed.status, listed.stderr).toBe(0);
    const listing = JSON.parse(listed.stdout) as { backup: { backupId: string }; objects: { label: string; state: string; reason?: string }[] };
    expect(listing.objects.map((o) => o.label)).toEqual(expect.arrayContaining(['Signing Key 2026', 'Partition Notes', 'Lab Root CA']));
    expect(listing.objects.find((o) => o.label === 'Code Signing Root' && o.state === 'excluded')?.reason).toMatch(/Not extractable/);
    await insert(cards[1] as string);
    const one = tessera(['backup', 'list', file, '--pins-from', '3', '--wait', '3', '--json'], { home: tempHome(), fds: [`${cardPins[1]}\n`] });
    expect(one.status).toBe(1);
    expect(one.stdout).not.toContain('Signing Key 2026');
  });

  it('keeps every secret off the disk: no card PIN, no escrow key, no backup key in the database, the media or the output', async () => {
    // The test, knowing two card PINs, rebuilds the escrow private key to look for it.
    const terminal = await openTerminal(home);
    const shares: Buffer[] = [];
    try {
      await terminal.readers.start();
      for (const [i, holder] of [[0, cards[0]], [1, cards[1]]] as const) {
        await withCard(terminal, holder as string, async (card) => {
          const record = parseRecord(await card.readSlot('backup'));
          if (!record) throw new Error(`${holder} has no backup record`);
          const share = await unseal(record.sealed, Buffer.from(cardPins[i] as string), binding(record.descriptor, record.index, record.card));
          if (!share) throw new Error(`${holder}'s backup share does not open`);
          shares.push(share);
        });
      }
    } finally {
      await terminal.close();
    }
    const escrow = await combineShares(shares, 2);
    const original = verifyBytes(readFileSync(file));
    if (!original.valid) throw new Error('the backup must verify');
    const keys = decapsulate(escrow, Buffer.from(original.backup.header.ephemeralPublic, 'base64'), Buffer.from(original.backup.header.escrow.publicKey, 'base64'));
    const secrets = [escrow, keys.wrapKey, keys.contentKey, ...shares].flatMap((b) => [b, Buffer.from(b.toString('hex')), Buffer.from(b.toString('base64'))]);
    const places = [...['tessera.db', 'tessera.db-wal'].filter((f) => existsSync(join(home, f))).map((f) => readFileSync(join(home, f))), readFileSync(file), readFileSync(`${file}.manifest.json`), Buffer.from(JSON.stringify(report))];
    for (const place of places) {
      for (const secret of secrets) expect(place.includes(secret)).toBe(false);
      for (const p of [...cardPins, LAB_USER_PIN]) expect(place.includes(Buffer.from(p))).toBe(false);
    }
  });

  it('refuses too few cards, and cards of another set, with nothing written', async () => {
    const target = await fresh('BK Few');
    await insert(cards[0] as string);
    const few = restore(file, target, [cardPins[0] as string]);
    expect(few.status).toBe(1);
    expect(few.stderr).toMatch(/No card came/);
    const [stranger] = await blankCards('bk-stranger', 1);
    await insert(stranger as string);
    const foreign = restore(file, target, ['whatever-1']);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(/A blank card: it holds no share of this backup's key set/);
    expect(objectsIn(target)).toBe(0);
  });
});

describe('a corrupted, altered, forged or foreign backup', () => {
  const corrupted = (name: string, mutate: (bytes: Buffer) => Buffer, manifest: 'keep' | 'drop' = 'drop'): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bad-'));
    const path = join(dir, `${name}.tsrbackup`);
    writeFileSync(path, mutate(Buffer.from(readFileSync(file))));
    if (manifest === 'keep') copyFileSync(`${file}.manifest.json`, `${path}.manifest.json`);
    return path;
  };
  /** Record boundaries: [offset, length] of each record after the 18-byte preamble. */
  const records = (bytes: Buffer): [number, number][] => {
    const out: [number, number][] = [];
    for (let at = 18; at < bytes.length; ) {
      const length = 5 + bytes.readUInt32BE(at + 1);
      out.push([at, length]);
      at += length;
    }
    return out;
  };
  const flip = (at: (bytes: Buffer) => number) => (bytes: Buffer): Buffer => {
    const i = at(bytes);
    bytes[i] = (bytes[i] as number) ^ 0x01;
    return bytes;
  };
  const swap = (bytes: Buffer): Buffer => {
    const r = records(bytes);
    const [a, b] = [r[1] as [number, number], r[2] as [number, number]];
    return Buffer.concat([bytes.subarray(0, a[0]), bytes.subarray(b[0], b[0] + b[1]), bytes.subarray(a[0], a[0] + a[1]), bytes.subarray(b[0] + b[1])]);
  };
  const duplicate = (bytes: Buffer): Buffer => {
    const [, e] = records(bytes) as [[number, number], [number, number]];
    return Buffer.concat([bytes.subarray(0, e[0] + e[1]), bytes.subarray(e[0], e[0] + e[1]), bytes.subarray(e[0] + e[1])]);
  };

  const cases: [string, () => string, RegExp][] = [
    ['a flipped byte in the header', () => corrupted('header', flip(() => 40)), /header is damaged|checksum|signature/],
    ['a flipped byte in an entry', () => corrupted('entry', flip((b) => (records(b)[3] as [number, number])[0] + 30)), /checksum/],
    ['a flipped byte in the signature', () => corrupted('signature', flip((b) => b.length - 20)), /end record is damaged|signature/],
    ['a truncated file', () => corrupted('truncated', (b) => b.subarray(0, b.length - 100)), /truncated/],
    ['a file cut at a record boundary', () => corrupted('cut', (b) => b.subarray(0, (records(b).at(-1) as [number, number])[0])), /incomplete/],
    ['reordered entries', () => corrupted('reordered', swap), /reordered/],
    ['a duplicated entry', () => corrupted('duplicated', duplicate), /reordered, duplicated/],
    ['bytes appended', () => corrupted('appended', (b) => Buffer.concat([b, Buffer.from('extra')])), /appended|truncated/],
    ['a manifest that disagrees', () => {
      const path = corrupted('manifest', (b) => b, 'keep');
      const m = JSON.parse(readFileSync(`${path}.manifest.json`, 'utf8')) as { objects: number };
      writeFileSync(`${path}.manifest.json`, JSON.stringify({ ...m, objects: m.objects + 1 }));
      return path;
    }, /manifest disagrees/],
  ];

  it.each(cases)('rejects %s before anything is unwrapped, with zero objects written', async (_name, make, message) => {
    const path = make();
    const verified = tessera(['backup', 'verify', path, '--json'], { home: tempHome() });
    expect(verified.status).toBe(1);
    const v = JSON.parse(verified.stdout) as BackupVerification;
    expect(v.valid).toBe(false);
    expect(v.problem).toMatch(message);
    const target = await fresh(`BK Bad ${basename(path, '.tsrbackup')}`);
    await insert(cards[0] as string, cards[1] as string);
    const restored = restore(path, target, [cardPins[0] as string, cardPins[1] as string]);
    expect(restored.status).toBe(1);
    expect(restored.stderr).toMatch(/Nothing was restored/);
    expect(objectsIn(target)).toBe(0);
  });

  it('rejects a forged backup made with the escrow public key and another signing key, at the first card', async () => {
    const original = verifyBytes(readFileSync(file));
    if (!original.valid) throw new Error('the original backup must verify');
    const h = original.backup.header;
    // The attacker knows everything public: the escrow key, the set's id and descriptor hash.
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = attacker.publicKey.export({ format: 'der', type: 'spki' });
    const { ephemeralPublic, keys } = encapsulate(Buffer.from(h.escrow.publicKey, 'base64'));
    const header: BackupHeader = { ...h, backupId: '00000000-0000-4000-8000-000000000001', entries: 1, objects: 1, excluded: 0, ephemeralPublic: ephemeralPublic.toString('base64'), signer: { publicKey: spki.toString('base64'), fingerprint: fingerprint(spki), id: h.signer.id } };
    const body = Buffer.concat([fileStart(header), sealEntry({ kind: 'object', index: 0, class: 'data', label: 'Planted', id: '', keyType: null, attributes: [{ type: 0x1, name: 'token', value: true }, { type: 0x11, name: 'value', value: Buffer.from('attacker data').toString('hex') }] }, keys.contentKey, header.backupId)]);
    const signature = sign('sha256', body, { key: createPrivateKey(attacker.privateKey.export({ format: 'pem', type: 'pkcs8' })), dsaEncoding: 'ieee-p1363' });
    const forged = join(mkdtempSync(join(tmpdir(), 'tessera-forged-')), 'forged.tsrbackup');
    writeFileSync(forged, Buffer.concat([body, fileEnd({ entries: 1, sha256: createHash('sha256').update(body).digest('hex'), signature: signature.toString('base64') })]));
    // Self-consistent, so a check without any anchor passes it; against the partition it fails.
    expect((await verifyBackupFile(forged)).valid).toBe(true);
    expect(await verifyBackupFile(forged, report.signer)).toMatchObject({ valid: false, ofPartition: false });
    const target = await fresh('BK Forged');
    await insert(cards[0] as string, cards[1] as string);
    // The officers' record from the safe does not match the forged signer: refused before any card.
    const byRecord = restore(forged, target, [cardPins[0] as string, cardPins[1] as string]);
    expect(byRecord.status).toBe(1);
    expect(byRecord.stderr).toMatch(/The fingerprint given is not the one of the backup set of .* that made this backup\. Nothing was restored\./);
    expect(byRecord.stderr).not.toMatch(/card read/);
    // Officers fooled into confirming the forged file's own fingerprint: the cards still refuse it.
    const forgedPrint = (JSON.parse(tessera(['backup', 'verify', forged, '--json'], { home: tempHome() }).stdout) as BackupVerification).backup?.setFingerprint as string;
    expect(forgedPrint).not.toBe(setPrint);
    const restored = restore(forged, target, [cardPins[0] as string, cardPins[1] as string], [], {}, forgedPrint);
    expect(restored.status).toBe(1);
    expect(restored.stderr).toMatch(/not signed by the backup-signing key its card set names/);
    const audit = JSON.parse(tessera(['audit', 'list', '--limit', '5', '--json'], { home }).stdout) as { action: string; outcome: string; details: Record<string, unknown> }[];
    expect(audit.find((e) => e.action === 'backup.restore')).toMatchObject({ action: 'backup.restore', outcome: 'refused', details: { error: 'BACKUP_INVALID' } });
    expect(objectsIn(target)).toBe(0);
  });

  it('rejects a backup of another partition when this partition\'s cards are presented', async () => {
    const other = await lab.newPartition(`BK Other ${tag}`);
    seedPartition(state.modulePath, state.softhsmConf, other.label, LAB_USER_PIN);
    const [otherCard] = await blankCards('bk-other', 1);
    await insert(otherCard as string);
    expect(tessera(['backup-set', 'create', '--token', other.label, '--holders', 'oz', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4'], { home, fds: ['bk-pin-oz-9\n', `${LAB_USER_PIN}\n`] }).status).toBe(0);
    const otherMedia = mkdtempSync(join(tmpdir(), 'tessera-usb-other-'));
    const made = backupTo(otherMedia, {}, other.label);
    expect(made.status, made.stderr).toBe(0);
    const otherFile = (JSON.parse(made.stdout) as BackupReport).file;
    const target = await fresh('BK Foreign');
    await insert(cards[0] as string, cards[1] as string);
    const otherPrint = (JSON.parse(tessera(['backup-set', 'show', '--token', other.label, '--json'], { home }).stdout) as { fingerprint: string }).fingerprint;
    expect(otherPrint).not.toBe(setPrint);
    // This set's record does not vouch for the other set's backup.
    const byRecord = restore(otherFile, target, [cardPins[0] as string, cardPins[1] as string]);
    expect(byRecord.status).toBe(1);
    expect(byRecord.stderr).toMatch(/The fingerprint given is not the one of the backup set of “BK Other/);
    const restored = restore(otherFile, target, [cardPins[0] as string, cardPins[1] as string], [], {}, otherPrint);
    expect(restored.status).toBe(1);
    expect(restored.stderr).toMatch(/belongs to a card set of partition “BK Source [^”]*” \(serial [0-9a-f]+\), not to the set this ceremony needs/);
    expect(objectsIn(target)).toBe(0);
    expect(JSON.parse(tessera(['backup', 'verify', otherFile, '--token', source.label, '--json'], { home: tempHome() }).stdout)).toMatchObject({ valid: false, ofPartition: false });
  });
});

describe('faults while a backup is written', () => {
  it.each(['backup:writing', 'backup:before-rename'])('a process killed at %s leaves no backup that passes verification incomplete, and the next start cleans up', (point) => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-kill-'));
    const killed = backupTo(folder, { TESSERA_TEST_CRASH_AT: point });
    expect(killed.signal).toBe('SIGKILL');
    const left = readdirSync(folder);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/\.tsrbackup\.partial$/);
    const verdict = verifyBytes(readFileSync(join(folder, left[0] as string)));
    // Mid-write it is incomplete and fails; flushed but not yet renamed it is whole, every entry there.
    if (point === 'backup:writing') expect(verdict.valid).toBe(false);
    else expect(verdict.valid && verdict.backup.entries.length === report.objects + report.excluded).toBe(true);
    const next = tessera(['audit', 'verify'], { home });
    expect(next.stderr).toMatch(/backup was interrupted while it was written/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a process killed just after the rename leaves a complete backup that verifies', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-kill-'));
    expect(backupTo(folder, { TESSERA_TEST_CRASH_AT: 'backup:after-rename' }).signal).toBe('SIGKILL');
    const [only] = readdirSync(folder);
    expect(only).toMatch(/\.tsrbackup$/);
    expect(verifyBytes(readFileSync(join(folder, only as string))).valid).toBe(true);
    expect(tessera(['audit', 'verify'], { home }).stderr).toMatch(/interrupted after its file was complete/);
  });

  it('a full USB stick (a real 64 KiB tmpfs, nearly filled) fails with a clear message and leaves nothing', () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: it needs root (the lab machines and CI run as root)');
    const mount = mkdtempSync(join(tmpdir(), 'tessera-usb-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      writeFileSync(join(mount, 'holiday-photos.jpg'), Buffer.alloc(48 * 1024, 1));
      const full = backupTo(mount);
      expect(full.status).toBe(1);
      expect(full.stderr).toMatch(/The USB stick (is full|has .* free)/);
      expect(readdirSync(mount)).toEqual(['holiday-photos.jpg']);
    } finally {
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('cancelled while it writes: nothing is left on the stick, and the cancel is final', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-cancel-'));
    const terminal = await openTerminal(home);
    try {
      await terminal.partition.selectByLabel(state.modulePath, source.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const stop = terminal.ceremonies.onCeremony((v) => {
        // The officers press Cancel once the progress bar moves.
        if (v.progress && v.progress.done >= 1) terminal.ceremonies.running()?.cancel();
      });
      const view = await runCeremony(terminal, { kind: 'backup', media: folder }, (v) => (v.prompt.kind === 'confirm' ? confirm : null));
      stop();
      expect(view.prompt.kind).toBe('cancelled');
      expect(view.progress?.done).toBeLessThan(report.objects + report.excluded);
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      await terminal.close();
    }
  });

  it('a stick that fills up after the officers confirmed: the real ENOSPC is reported and nothing is left', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: it needs root (the lab machines and CI run as root)');
    const mount = mkdtempSync(join(tmpdir(), 'tessera-usb-fills-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
    const terminal = await openTerminal(home);
    try {
      await terminal.partition.selectByLabel(state.modulePath, source.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const view = await runCeremony(terminal, { kind: 'backup', media: mount }, (v) => {
        if (v.prompt.kind !== 'confirm') return null;
        // Someone else's files take the space between the check and the write.
        writeFileSync(join(mount, 'video.mp4'), Buffer.alloc(240 * 1024, 1));
        return confirm;
      });
      expect(view.prompt.kind).toBe('failed');
      expect(view.error).toMatchObject({ code: 'MEDIA_ERROR', detail: expect.stringMatching(/ENOSPC/) as unknown });
      expect(view.error?.message).toMatch(/^The USB stick is full\. Nothing was left on it/);
      expect(readdirSync(mount)).toEqual(['video.mp4']);
    } finally {
      await terminal.close();
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('a stick pulled after the officers confirmed: they are told, and nothing counts as a backup', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-pulled-'));
    const terminal = await openTerminal(home);
    const catalogued = terminal.backups.list().length;
    try {
      await terminal.partition.selectByLabel(state.modulePath, source.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const view = await runCeremony(terminal, { kind: 'backup', media: folder }, (v) => {
        if (v.prompt.kind !== 'confirm') return null;
        rmSync(folder, { recursive: true });
        return confirm;
      });
      expect(view.prompt.kind).toBe('failed');
      expect(view.error?.message).toMatch(/^The USB stick was removed, or failed, while the backup was written/);
      expect(existsSync(folder)).toBe(false);
      // Nothing was catalogued as a backup, and the failure is on the record.
      expect(terminal.backups.list()).toHaveLength(catalogued);
      expect(terminal.audit.list(5).find((e) => e.action === 'backup.create')).toMatchObject({ outcome: 'failed', details: { error: 'MEDIA_ERROR' } });
    } finally {
      await terminal.close();
    }
  });

  it('cancelled while it reads the partition, or at its question: no preview is left under "Cancelled", nothing is written', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-cancel-'));
    const terminal = await openTerminal(home);
    let previews = 0;
    // Cancelled the moment the survey begins (the host tells listeners synchronously), then at the question.
    const stop = terminal.ceremonies.onCeremony((v) => {
      if (v.detail?.kind === 'backup-preview') previews++;
      if (v.prompt.kind === 'working' && v.prompt.text.startsWith('Looking at what the partition holds') && previews === 0 && !terminal.ceremonies.running()?.isCancelled) terminal.ceremonies.running()?.cancel();
    });
    try {
      await terminal.partition.selectByLabel(state.modulePath, source.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const during = await runCeremony(terminal, { kind: 'backup', media: folder }, () => null);
      expect(during.prompt).toMatchObject({ kind: 'cancelled', text: 'Cancelled. Nothing was changed.' });
      expect(previews).toBe(0);
      expect(during.detail).toBeNull();
      stop();
      const atQuestion = await runCeremony(terminal, { kind: 'backup', media: folder }, (v) => (v.prompt.kind === 'confirm' ? { kind: 'cancel' } : null));
      expect(atQuestion.prompt.kind).toBe('cancelled');
      expect(atQuestion.detail).toBeNull();
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      stop();
      await terminal.close();
    }
  });

  it('a stick pulled while the committed backup is read back: they are told it was not checked, and nothing counts as a backup', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-pulled-late-'));
    const terminal = await openTerminal(home);
    const catalogued = terminal.backups.list().length;
    // Pulled the moment the read-back after the commit begins (the host tells listeners synchronously).
    const stop = terminal.ceremonies.onCeremony((v) => {
      if (v.prompt.kind === 'working' && v.prompt.text.startsWith('Reading the backup back') && existsSync(folder)) rmSync(folder, { recursive: true });
    });
    try {
      await terminal.partition.selectByLabel(state.modulePath, source.label);
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      const view = await runCeremony(terminal, { kind: 'backup', media: folder }, (v) => (v.prompt.kind === 'confirm' ? confirm : null));
      expect(view.prompt.kind).toBe('failed');
      expect(view.error).toMatchObject({ code: 'MEDIA_ERROR', detail: expect.stringMatching(/\.tsrbackup: ENOENT$/) as unknown });
      expect(view.error?.message).toMatch(/^The USB stick was removed, or failed, while the backup was read back from it, so the backup could not be checked\. .*Insert the stick again and back up again\.$/);
      expect(existsSync(folder)).toBe(false);
      expect(terminal.backups.list()).toHaveLength(catalogued);
    } finally {
      stop();
      await terminal.close();
    }
  });

  it('media that is gone fails with a clear message', () => {
    const gone = join(tmpdir(), `tessera-usb-gone-${tag}`);
    mkdirSync(gone);
    rmSync(gone, { recursive: true });
    const result = backupTo(gone);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/That media is not there/);
    expect(existsSync(gone)).toBe(false);
  });
});

describe('a backup-set creation killed half way', () => {
  it('cancelled before any card (no card came): nothing was changed, no backup-signing key is left in the partition', async () => {
    const created = await lab.newPartition(`BK Set cancel ${tag}`.slice(0, 32));
    await removeAll();
    const cancelled = tessera(['backup-set', 'create', '--token', created.label, '--holders', 'una', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--wait', '2'], { home: tempHome(), fds: ['bk-cancel-pin-1\n', `${LAB_USER_PIN}\n`] });
    expect(cancelled.status).toBe(1);
    expect(cancelled.stderr).toMatch(/No card came/);
    expect(parseObjectList(pkcs11Tool(['--token-label', created.label, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).filter((o) => o.label === 'Tessera backup-signing key')).toEqual([]);
  });

  it.each(['backup-set:card-1', 'backup-set:after-anchor'])('killed at %s: the next start rolls it back or finishes it, and backups work after', async (point) => {
    const created = await lab.newPartition(`BK Set ${point.split(':')[1]} ${tag}`.slice(0, 32));
    seedPartition(state.modulePath, state.softhsmConf, created.label, LAB_USER_PIN);
    const setCards = await blankCards(`bk-kill-${point.split(':')[1]}`, 2);
    await insert(...setCards);
    const kHome = tempHome();
    const create = (env: Record<string, string> = {}): ReturnType<typeof tessera> =>
      tessera(['backup-set', 'create', '--token', created.label, '--holders', 'una,vic', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--json'], { home: kHome, fds: ['bk-kill-pin-1\nbk-kill-pin-2\n', `${LAB_USER_PIN}\n`], env });
    expect(create({ TESSERA_TEST_CRASH_AT: point }).signal).toBe('SIGKILL');
    const next = tessera(['audit', 'verify'], { home: kHome });
    if (point === 'backup-set:card-1') {
      expect(next.stderr).toMatch(/was rolled back; create it again/);
      await insert(...setCards);
      // The cards written before the crash are taken again (their set was abandoned); the PINs are theirs now.
      const again = tessera(['backup-set', 'create', '--token', created.label, '--holders', 'una,vic', '--threshold', '1', '--pins-from', '3', '--pin-fd', '4', '--json'], { home: kHome, fds: ['bk-kill-pin-1\nbk-kill-pin-2\n', `${LAB_USER_PIN}\n`] });
      expect(again.status, again.stderr).toBe(0);
    } else {
      expect(next.stderr).toMatch(/recorded on the partition\. It is finished/);
    }
    // One signing key pair only: an interrupted creation leaves none behind.
    expect(parseObjectList(pkcs11Tool(['--token-label', created.label, '--login', '--pin', LAB_USER_PIN, '--list-objects'])).filter((o) => o.label === 'Tessera backup-signing key')).toHaveLength(2);
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-set-'));
    const made = tessera(['backup', 'create', '--token', created.label, '--media', folder, '--pin-fd', '3', '--json'], { home: kHome, fds: [`${LAB_USER_PIN}\n`] });
    expect(made.status, made.stderr).toBe(0);
  });
});

describe('an attribute the HSM will not read (SoftHSMv2 #655, token case 02)', () => {
  it('costs only that attribute: the key is backed up without its dates, the officers are told which and why, and it restores', async () => {
    // A private AES key with CKA_START_DATE/CKA_END_DATE: after the token is loaded again, SoftHSM2 fails to read them.
    addDatedKey(state.modulePath, state.softhsmConf, source.label, LAB_USER_PIN, 'Dated Key 655');
    const folder = mkdtempSync(join(tmpdir(), 'tessera-usb-dated-'));
    const made = backupTo(folder);
    expect(made.status, made.stderr).toBe(0);
    const dated = JSON.parse(made.stdout) as BackupReport;
    expect(dated.objects).toBe(report.objects + 1);
    expect(dated.incomplete).toEqual([
      {
        class: 'secret-key',
        label: 'Dated Key 655',
        id: 'dd',
        unreadable: [
          'CKA_START_DATE (start date): the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR',
          'CKA_END_DATE (end date): the HSM failed to read it: the HSM returned CKR_GENERAL_ERROR',
        ],
      },
    ]);
    // Said before the confirmation, in the ceremony's notices; the text output names it too.
    expect(made.stderr).toMatch(/“Dated Key 655” \(secret-key, id dd\) is backed up without attributes the HSM would not read/);
    const target = await fresh('BK Dated');
    await insert(cards[0] as string, cards[1] as string);
    const restored = restore(dated.file, target, [cardPins[0] as string, cardPins[1] as string]);
    expect(restored.status, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout) as RestoreReport;
    expect(r.objects.find((o) => o.label === 'Dated Key 655')).toMatchObject({ outcome: 'restored', check: expect.stringMatching(/^passed/) });
    expect(proveKeys(state.modulePath, state.softhsmConf, source.label, target, LAB_USER_PIN)).toMatchObject({ dd: 'decrypted' });
  });
});
