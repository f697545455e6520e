import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encapsulate, escrowPublic, newEscrowKey } from '../../src/core/backup/escrow';
import { type BackupHeader, type EntryBody, GrowingFileCheck, SYNC_DIGESTS_MAX, fileEnd, fileStart, sealEntry, verifyBytes } from '../../src/core/backup/format';
import { testHeader } from './backup-header';
import { AtomicFile, READ_BACK_BLOCK, digestFromMedium, StickGone, readBlocksFromMedium, readFromMedium } from '../../src/core/backup/media';
import { ReadBack } from '../../src/core/backup/read-back';

const escrowPub = escrowPublic(newEscrowKey(Buffer.alloc(32, 5)));
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = signer.publicKey.export({ format: 'der', type: 'spki' });

/** A signed backup file of `count` entries of about 1 KB each. */
function backupFile(count: number): Buffer {
  const { ephemeralPublic, keys } = encapsulate(escrowPub);
  const header: BackupHeader = testHeader({ backupId: '21111111-2222-4333-8444-555555555555', created: '2026-12-01T12:00:00.000Z', count, escrowPub, spki, ephemeralPublic });
  const entries = Array.from({ length: count }, (_, index): EntryBody => ({ kind: 'object', index, class: 'secret-key', label: `key ${index}`, id: '', keyType: 0x1f, attributes: [], wrapped: randomBytes(700).toString('base64'), check: { kind: 'check-value', value: 'abcdef' } }));
  const body = Buffer.concat([fileStart(header), ...entries.map((e) => sealEntry(e, keys.contentKey, header.backupId))]);
  const signature = sign('sha256', body, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  return Buffer.concat([body, fileEnd({ entries: count, sha256: createHash('sha256').update(body).digest('hex'), signature: signature.toString('base64') })]);
}

/** The verdict as a comparable value: valid with the file's SHA-256, or the problem. */
const outcome = (v: ReturnType<typeof verifyBytes>): string => (v.valid ? `valid ${v.backup.sha256} ${v.backup.size} ${v.backup.entries.length}` : v.problem);

describe('a backup checked as it is read back (GrowingFileCheck)', () => {
  const file = backupFile(40);

  it('gives verifyBytes\'s verdict, however the bytes come in pieces, for the file as written and for any flipped byte, cut or addition', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: -1, max: file.length - 1 }), fc.constantFrom('flip', 'cut', 'append'), (pieces, at, how) => {
        const bytes = at < 0 ? file : how === 'flip' ? Buffer.from(file).fill(file[at] as number ^ 0x20, at, at + 1) : how === 'cut' ? file.subarray(0, at) : Buffer.concat([file, Buffer.from([at & 0xff])]);
        const check = new GrowingFileCheck(1000);
        let offset = 0;
        for (const piece of pieces) {
          check.add(bytes.subarray(offset, offset + piece));
          offset = Math.min(bytes.length, offset + piece);
        }
        check.add(bytes.subarray(offset));
        expect(outcome(check.verdict())).toBe(outcome(verifyBytes(bytes)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('a large backup checked as it is read back (GrowingFileCheck.verdictAsync)', () => {
  it('gives verifyBytes\'s verdict for a file over SYNC_DIGESTS_MAX, with its digests taken off this thread', async () => {
    const large = backupFile(8000);
    expect(large.length).toBeGreaterThan(SYNC_DIGESTS_MAX);
    const verdictOf = async (bytes: Buffer): Promise<string> => {
      const check = new GrowingFileCheck(bytes.length);
      check.add(bytes);
      return outcome(await check.verdictAsync());
    };
    expect(await verdictOf(large)).toBe(outcome(verifyBytes(large)));
    // The event loop turns while the digests are taken (synchronous digests would resolve first).
    let turned = false;
    setImmediate(() => (turned = true));
    expect(await verdictOf(large)).toMatch(/^valid /);
    expect(turned).toBe(true);
    // A flipped byte inside an entry, and one inside the signature.
    for (const at of [Math.floor(large.length / 2), large.length - 40]) {
      const flipped = Buffer.from(large);
      flipped[at] = (flipped[at] as number) ^ 0x04;
      expect(await verdictOf(flipped)).toBe(outcome(verifyBytes(flipped)));
      expect(await verdictOf(flipped)).not.toMatch(/^valid /);
    }
  });
});

describe('the read-back of a backup overlapped with its writing (ReadBack)', () => {
  // Over two read-back blocks, so that its first blocks are read back while the rest is written.
  const file = backupFile(3000);
  const folder = mkdtempSync(join(tmpdir(), 'tessera-read-back-'));

  /** Writes `file` through AtomicFile in pieces as a backup does; `meddle` runs once the first block has been read back. */
  async function writeAndReadBack(name: string, meddle?: (temp: string) => void, afterCommit?: (path: string) => void): Promise<ReturnType<typeof verifyBytes>> {
    const path = join(folder, name);
    const out = await AtomicFile.create(path);
    const back = new ReadBack(out, file.length);
    let written = 0;
    for (let offset = 0; offset < file.length; offset += 300_000) {
      const piece = file.subarray(offset, offset + 300_000);
      await out.write(piece);
      written += piece.length;
      back.written(written);
      await back.settle();
      if (written >= READ_BACK_BLOCK && meddle) {
        meddle(out.temp);
        meddle = undefined;
      }
    }
    await out.commit();
    afterCommit?.(path);
    return back.verdict(path);
  }

  it('reads back, in blocks from the medium, exactly the file written, and finds it valid', async () => {
    expect(file.length).toBeGreaterThan(2 * READ_BACK_BLOCK);
    const verdict = await writeAndReadBack('good.tsrbackup');
    expect(outcome(verdict)).toBe(outcome(verifyBytes(file)));
    expect(verdict.valid && verdict.backup.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    expect(readFileSync(join(folder, 'good.tsrbackup')).equals(file)).toBe(true);
  });

  it('catches a byte the medium changed in a block not yet read back (a stick that stores other bytes than it was given)', async () => {
    const verdict = await writeAndReadBack('changed.tsrbackup', (temp) => {
      // The stick keeps a different byte in the second block, written but not read back yet.
      const fd = openSync(temp, 'r+');
      try {
        const at = READ_BACK_BLOCK + 1234;
        writeSync(fd, Buffer.from([(file[at] as number) ^ 0x01]), 0, 1, at);
      } finally {
        closeSync(fd);
      }
    });
    expect(verdict.valid).toBe(false);
    expect(verdict.valid ? '' : verdict.problem).toMatch(/checksum/);
  });

  it('catches a byte the medium changed during the commit in a block read back before it (every byte is read back after the commit)', async () => {
    const verdict = await writeAndReadBack('changed-at-commit.tsrbackup', undefined, (path) => {
      // The first block was read back and checked while the file was written; the stick then
      // loses it as the folder is flushed.
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, Buffer.from([(file[4321] as number) ^ 0x01]), 0, 1, 4321);
      } finally {
        closeSync(fd);
      }
    });
    expect(verdict.valid).toBe(false);
    expect(verdict.valid ? '' : verdict.problem).toMatch(/after it was committed differs/);
  });

  it('digestFromMedium gives the SHA-256 and size of the file as the medium holds it', async () => {
    const path = join(folder, 'digest.bin');
    const out = await AtomicFile.create(path);
    await out.write(file.subarray(0, 2 * READ_BACK_BLOCK + 77));
    await out.commit();
    expect(await digestFromMedium(path)).toEqual({ sha256: createHash('sha256').update(file.subarray(0, 2 * READ_BACK_BLOCK + 77)).digest('hex'), size: 2 * READ_BACK_BLOCK + 77 });
    await expect(digestFromMedium(join(folder, 'missing.bin'))).rejects.toMatchObject({ code: 'MEDIA_ERROR' });
  });

  it('says a file gone while it was read back (the stick pulled out) as a stick removed, in each read-back', async () => {
    const gone = join(folder, 'gone.bin');
    const removed = { code: 'MEDIA_ERROR', message: 'The USB stick was removed, or failed, while the backup was read back from it, so the backup could not be checked. Insert the stick again and write the backup again.', detail: 'gone.bin: ENOENT' };
    await expect(digestFromMedium(gone)).rejects.toMatchObject(removed);
    await expect(readBlocksFromMedium(gone, 0, 1)).rejects.toMatchObject(removed);
    await expect(readFromMedium(gone, 1 << 20, 'manifest')).rejects.toMatchObject({ ...removed, message: expect.stringMatching(/while the manifest was read back from it, so the manifest could not be checked/) });
    // What rewords a media failure (the backup ceremony, transcripts) can tell a stick gone from an unreliable one.
    expect(await digestFromMedium(gone).catch((error: unknown) => error)).toBeInstanceOf(StickGone);
    const short = join(folder, 'ten-bytes.bin');
    writeFileSync(short, Buffer.alloc(10, 7));
    const cut = await readBlocksFromMedium(short, 0, 2).catch((error: unknown) => error);
    expect(cut).toMatchObject({ code: 'MEDIA_ERROR', message: 'The backup could not be read back from the media.' });
    expect(cut).not.toBeInstanceOf(StickGone);
  });

  it('reads blocks back only as far as the file goes: a block asked for that is not all there is an error, not a short answer', async () => {
    const path = join(folder, 'short.bin');
    const out = await AtomicFile.create(path);
    await out.write(file.subarray(0, READ_BACK_BLOCK + 10));
    await out.commit();
    await expect(readBlocksFromMedium(path, 0, 2)).rejects.toMatchObject({ code: 'MEDIA_ERROR' });
    expect((await readBlocksFromMedium(path, 1, null)).bytes.equals(file.subarray(READ_BACK_BLOCK, READ_BACK_BLOCK + 10))).toBe(true);
  });
});
