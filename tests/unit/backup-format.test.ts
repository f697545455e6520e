import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decapsulate, encapsulate, escrowPublic, newEscrowKey } from '../../src/core/backup/escrow';
import { type BackupHeader, type EntryBody, EntrySealer, MAGIC, entryInRecord, fileEnd, fileStart, openEntry, prepareEntry, sealEntry, verifyBytes, verifyBytesAsync } from '../../src/core/backup/format';
import { testHeader } from './backup-header';
import { inspectBackupFile, verifyBackupFile } from '../../src/core/backup/verify';
import { checkManifest, manifestBytes, manifestFor, renderManifest } from '../../src/core/backup/manifest';
import { isRemovable, parseMountInfo } from '../../src/core/media/mounts';

const escrow = newEscrowKey(Buffer.alloc(32, 3));
const escrowPub = escrowPublic(escrow);
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = signer.publicKey.export({ format: 'der', type: 'spki' });

function backup(count = 3): { bytes: Buffer; contentKey: Buffer; header: BackupHeader } {
  const { ephemeralPublic, keys } = encapsulate(escrowPub);
  const header: BackupHeader = testHeader({ backupId: '11111111-2222-4333-8444-555555555555', created: '2026-11-23T12:00:00.000Z', count, escrowPub, spki, ephemeralPublic });
  const entries = Array.from({ length: count }, (_, index): EntryBody => ({ kind: 'object', index, class: 'data', label: `object ${index}`, id: '', keyType: null, attributes: [{ type: 0x11, name: 'value', value: 'beef' }] }));
  const body = Buffer.concat([fileStart(header), ...entries.map((e) => sealEntry(e, keys.contentKey, header.backupId))]);
  const signature = sign('sha256', body, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  const bytes = Buffer.concat([body, fileEnd({ entries: count, sha256: createHash('sha256').update(body).digest('hex'), signature: signature.toString('base64') })]);
  return { bytes, contentKey: keys.contentKey, header };
}

describe('the backup file', () => {
  const { bytes, contentKey, header } = backup();

  it('verifies as written, and every entry opens with the content key only', () => {
    const verdict = verifyBytes(bytes);
    expect(verdict.valid).toBe(true);
    if (!verdict.valid) return;
    expect(verdict.backup.entries.map((e) => openEntry(e, contentKey, header.backupId)?.label)).toEqual(['object 0', 'object 1', 'object 2']);
    expect(openEntry(verdict.backup.entries[0] as never, Buffer.alloc(32), header.backupId)).toBeNull();
    // An entry moved into another backup does not open there.
    expect(openEntry(verdict.backup.entries[0] as never, contentKey, '99999999-2222-4333-8444-555555555555')).toBeNull();
  });

  it('seals an entry checked: the record opens to the body, and a body a restore would refuse is not sealed', () => {
    const { wrapped, ...body } = { kind: 'object', index: 7, class: 'secret-key', label: 'k', id: 'aa', keyType: 0x1f, attributes: [{ type: 0x1, name: 'token', value: true }], wrapped: 'AAAA', check: { kind: 'check-value', value: 'abcdef' } } satisfies EntryBody;
    const sealer = new EntrySealer(contentKey, header.backupId);
    const prepared = prepareEntry(body, true);
    const record = prepared && sealer.seal(prepared, Buffer.from(wrapped, 'base64'));
    const entry = record && entryInRecord(record);
    expect(entry && openEntry(entry, contentKey, header.backupId)).toEqual({ ...body, wrapped });
    expect(prepareEntry({ ...body, label: 'x'.repeat(1025) }, true)).toBeNull();
    // A wrapped key goes only where one is expected, and where one is expected it must come.
    expect(prepared && sealer.seal(prepared, null)).toBeNull();
    const plain = prepareEntry({ ...body, index: 8 }, false);
    expect(plain && sealer.seal(plain, Buffer.from(wrapped, 'base64'))).toBeNull();
    expect(prepareEntry({ ...body, wrapped } as EntryBody, true)).toBeNull();
  });

  it('a prepared entry, sealed with its wrapped key, opens to exactly the body JSON.stringify would give, each under a nonce of its own', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const attribute = fc.record({ type: fc.nat(), name: fc.string({ maxLength: 20 }), value: fc.oneof(fc.boolean(), fc.nat(), text) });
    const check = fc.oneof(fc.constant(undefined), fc.record({ kind: fc.constant('check-value' as const), value: fc.stringMatching(/^[0-9a-f]{0,12}$/) }), fc.record({ kind: fc.constant('none' as const), reason: text }));
    const sealer = new EntrySealer(contentKey, header.backupId);
    const nonces = new Set<string>();
    fc.assert(
      fc.property(fc.nat({ max: 1000 }), text, fc.stringMatching(/^[0-9a-f]{0,20}$/), fc.array(attribute, { maxLength: 6 }), fc.uint8Array({ maxLength: 300 }), check, (index, label, id, attributes, key, kcv) => {
        const body: EntryBody = { kind: 'object', index, class: 'private-key', label, id, keyType: 3, attributes, ...(kcv ? { check: kcv } : {}) };
        const wrapped = Buffer.from(key).toString('base64');
        const prepared = prepareEntry(body, true);
        const record = prepared && sealer.seal(prepared, Buffer.from(key));
        const entry = record && entryInRecord(record);
        expect(entry).not.toBeNull();
        if (!entry) return;
        const whole = { kind: 'object', index, class: 'private-key', label, id, keyType: 3, attributes, wrapped, ...(kcv ? { check: kcv } : {}) };
        expect(openEntry(entry, contentKey, header.backupId)).toEqual(whole);
        expect(entry.sealed.length).toBe(Buffer.byteLength(JSON.stringify(whole)) + 16);
        nonces.add(entry.nonce.toString('hex'));
      }),
      { numRuns: 600 },
    );
    expect(nonces.size).toBe(600);
  });

  it('rejects every single flipped bit, at every position of the file', () => {
    const accepted: string[] = [];
    for (let at = 0; at < bytes.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(bytes);
        copy[at] = (copy[at] as number) ^ (1 << bit);
        if (verifyBytes(copy).valid) accepted.push(`bit ${bit} of byte ${at}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('off the main thread (verifyBytesAsync) gives the same verdict as verifyBytes, for the file as written and every flipped bit', async () => {
    const written = await verifyBytesAsync(bytes);
    expect(written).toEqual(verifyBytes(bytes));
    const differing: string[] = [];
    for (let at = 0; at < bytes.length; at += 7) {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] as number) ^ (1 << (at % 8));
      const [sync, async] = [verifyBytes(copy), await verifyBytesAsync(copy)];
      if (JSON.stringify(sync) !== JSON.stringify(async)) differing.push(`byte ${at}: ${JSON.stringify(sync).slice(0, 80)} / ${JSON.stringify(async).slice(0, 80)}`);
    }
    expect(differing).toEqual([]);
  });

  it('rejects the file cut at any length (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), (length) => {
        expect(verifyBytes(bytes.subarray(0, length)).valid).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('the escrow private key recomputes the backup keys; another key does not', () => {
    const { ephemeralPublic, keys } = encapsulate(escrowPub);
    expect(decapsulate(escrow, ephemeralPublic, escrowPub).contentKey.equals(keys.contentKey)).toBe(true);
    expect(decapsulate(newEscrowKey(Buffer.alloc(32, 4)), ephemeralPublic, escrowPub).contentKey.equals(keys.contentKey)).toBe(false);
  });

  it('accepts its signed manifest and names one that disagrees or was re-signed by another key', () => {
    const verdict = verifyBytes(bytes);
    if (!verdict.valid) throw new Error('must verify');
    const body = manifestFor(verdict.backup, 'b.tsrbackup');
    const good = renderManifest(body, sign('sha256', manifestBytes(body), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' })).toString();
    expect(checkManifest(good, verdict.backup, 'renamed.tsrbackup')).toBeNull();
    const edited = JSON.parse(good) as { objects: number };
    expect(checkManifest(JSON.stringify({ ...edited, objects: 4 }), verdict.backup, 'b.tsrbackup')).toMatch(/disagrees.*objects/);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = renderManifest(body, sign('sha256', manifestBytes(body), { key: other.privateKey, dsaEncoding: 'ieee-p1363' })).toString();
    expect(checkManifest(forged, verdict.backup, 'b.tsrbackup')).toMatch(/signature does not match/);
  });
});

describe('removable media', () => {
  it('reads mount points and devices from mountinfo, unescaping spaces', () => {
    const text = ['22 1 8:1 / / rw - ext4 /dev/sda1 rw', '90 22 8:17 / /media/officer/USB\\040STICK rw,nosuid - vfat /dev/sdb1 rw'].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { device: '/dev/sda1', mountPoint: '/', fsType: 'ext4' },
      { device: '/dev/sdb1', mountPoint: '/media/officer/USB STICK', fsType: 'vfat' },
    ]);
  });

  it('takes the removable flag from the partition\'s disk in sysfs', () => {
    const sys = mkdtempSync(join(tmpdir(), 'tessera-sys-'));
    const disk = join(sys, 'devices', 'pci0', 'usb1', 'block', 'sdb');
    mkdirSync(join(disk, 'sdb1'), { recursive: true });
    writeFileSync(join(disk, 'removable'), '1\n');
    writeFileSync(join(disk, 'sdb1', 'partition'), '1\n');
    const fixed = join(sys, 'devices', 'pci0', 'ata1', 'block', 'sda');
    mkdirSync(join(fixed, 'sda1'), { recursive: true });
    writeFileSync(join(fixed, 'removable'), '0\n');
    writeFileSync(join(fixed, 'sda1', 'partition'), '1\n');
    mkdirSync(join(sys, 'class', 'block'), { recursive: true });
    symlinkSync(join(disk, 'sdb1'), join(sys, 'class', 'block', 'sdb1'));
    symlinkSync(join(fixed, 'sda1'), join(sys, 'class', 'block', 'sda1'));
    expect(isRemovable('/dev/sdb1', sys)).toBe(true);
    expect(isRemovable('/dev/sda1', sys)).toBe(false);
    expect(isRemovable('/dev/nvme0n1p1', sys)).toBe(false);
  });
});

describe('a file that is not a backup', () => {
  it('is refused from its first bytes, without reading the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-junk-'));
    const file = join(dir, 'junk.tsrbackup');
    writeFileSync(file, Buffer.alloc(1 << 20, 0x41));
    const { verification, backup } = await inspectBackupFile(file);
    expect(backup).toBeNull();
    expect(verification).toMatchObject({ valid: false, problem: 'This is not a Tessera backup file.', size: MAGIC.length });
    expect(await verifyBackupFile(file, 'ab'.repeat(32))).toMatchObject({ valid: false, signerChecked: true });
  });
});
