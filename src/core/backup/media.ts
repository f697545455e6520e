// Removable media: which mounted drives a backup can go to (Linux: the kernel's removable flag in
// sysfs and the mount table), plus the training lab's stand-in folder; and the file operations a
// backup needs on them, each turning the OS's errors into what officers should be told.
import { createHash } from 'node:crypto';
import { constants, existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { type FileHandle, open, rename, stat, statfs, unlink } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import type { MediaView } from '../../shared/types';
import { TesseraError } from '../errors';
import { isRemovable, parseMountInfo, unescape } from '../media/mounts';

function labelOf(device: string, devRoot = '/dev'): string | null {
  const dir = join(devRoot, 'disk', 'by-label');
  try {
    for (const link of readdirSync(dir)) {
      const target = join(dir, readlinkSync(join(dir, link)));
      if (basename(target) === basename(device)) return unescape(link);
    }
  } catch {
    // no labels on this machine
  }
  return null;
}

async function space(path: string): Promise<{ size: number; free: number }> {
  const s = await statfs(path);
  return { size: s.blocks * s.bsize, free: s.bavail * s.bsize };
}

/** Mounted removable drives, then the lab's stand-in folders (TESSERA_MEDIA or the lab profile). */
export async function listMedia(standIns: string[], mountInfo = '/proc/self/mountinfo', sysRoot = '/sys'): Promise<MediaView[]> {
  const out: MediaView[] = [];
  let text = '';
  try {
    text = readFileSync(mountInfo, 'utf8');
  } catch {
    // not Linux: only stand-ins
  }
  for (const m of parseMountInfo(text)) {
    if (!m.device.startsWith('/dev/') || !isRemovable(m.device, sysRoot)) continue;
    try {
      out.push({ path: m.mountPoint, label: labelOf(m.device) ?? basename(m.mountPoint), device: m.device, ...(await space(m.mountPoint)), source: 'removable' });
    } catch {
      // unmounted while we looked
    }
  }
  for (const dir of standIns) {
    if (!existsSync(dir)) continue;
    out.push({ path: dir, label: `${basename(dir)} (training lab stand-in)`, device: null, ...(await space(dir)), source: 'lab' });
  }
  return out;
}

// ---- file operations on media ----

/**
 * What was being written, for mediaError's messages: a backup by default; other files written to
 * the same sticks (ceremony transcripts) name themselves, so officers are not told a backup failed.
 */
export interface MediaSubject {
  /** The noun: "backup", "transcript". */
  thing: string;
  /** What to do once the stick is fixed: "back up again". */
  again: string;
}

const BACKUP_SUBJECT: MediaSubject = { thing: 'backup', again: 'back up again' };

/** errno codes of a stick that was pulled out or failed under the terminal (the file or the device is gone). */
const GONE: ReadonlySet<string> = new Set(['ENOENT', 'EIO', 'ENODEV', 'ENXIO', 'ESTALE']);

/**
 * MEDIA_ERROR for a stick pulled out or failed while it was written or read back (an errno code of
 * GONE): callers that reword a media failure (the backup's manifest, transcripts) keep that meaning.
 */
export class StickGone extends TesseraError {
  constructor(message: string, detail?: string) {
    super('MEDIA_ERROR', message, detail);
  }
}

export function mediaError(error: unknown, what: string, subject: MediaSubject = BACKUP_SUBJECT): TesseraError {
  if (error instanceof TesseraError) return error;
  const { thing, again } = subject;
  const code = (error as NodeJS.ErrnoException | null)?.code ?? 'unknown';
  const detail = `${what}: ${code}`;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new TesseraError('MEDIA_ERROR', `The USB stick is full. Nothing was left on it; free some space or use a larger stick, then ${again}.`, detail);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return new TesseraError('MEDIA_ERROR', 'The USB stick cannot be written (it is read-only or write-protected). Nothing was written.', detail);
  if (GONE.has(code)) {
    return new StickGone(`The USB stick was removed, or failed, while the ${thing} was written. No ${thing} was left on it; insert it again and ${again}.`, detail);
  }
  return new TesseraError('MEDIA_ERROR', `The USB stick could not be written. No ${thing} was left on it.`, detail);
}

/** fsync of a folder, so that a rename in it survives a power cut. */
export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A file written the way backups must be: to a temporary name beside it, flushed, renamed, the
 * folder flushed. Until commit() the final name does not exist; abort() (or a failed commit)
 * leaves nothing behind. OS errors come out as MEDIA_ERROR in officers' words.
 */
export class AtomicFile {
  readonly temp: string;
  private handle: FileHandle | null = null;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly subject: MediaSubject,
  ) {
    this.temp = `${path}.partial`;
  }

  /** @throws TesseraError MEDIA_ERROR (in words about `subject`) when the temporary file cannot be created. */
  static async create(path: string, subject: MediaSubject = BACKUP_SUBJECT): Promise<AtomicFile> {
    const file = new AtomicFile(path, subject);
    try {
      file.handle = await open(file.temp, 'wx', 0o600);
    } catch (error) {
      throw mediaError(error, `creating ${basename(file.temp)}`, subject);
    }
    return file;
  }

  /** Writes all of `data` (a short write is continued, never silently accepted). */
  async write(data: Buffer): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new TesseraError('INTERNAL', 'The file is closed.');
    try {
      for (let offset = 0; offset < data.length; ) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        if (bytesWritten <= 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
        offset += bytesWritten;
      }
    } catch (error) {
      throw mediaError(error, `writing ${basename(this.temp)}`, this.subject);
    }
  }

  /**
   * Flushes what was written so far to the medium (fdatasync), without ending the file: a backup's
   * read-back reads each part from the medium while the rest is still written (ReadBack).
   */
  async flush(): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new TesseraError('INTERNAL', 'The file is closed.');
    try {
      await handle.datasync();
    } catch (error) {
      throw mediaError(error, `writing ${basename(this.temp)}`, this.subject);
    }
  }

  /** Flushes, renames to the final name and flushes the folder; `beforeRename` runs in between. */
  async commit(beforeRename?: () => void): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new TesseraError('INTERNAL', 'The file is closed.');
    try {
      await handle.sync();
      await handle.close();
      this.handle = null;
      beforeRename?.();
      await rename(this.temp, this.path);
      this.done = true;
      await syncFolder(dirname(this.path));
    } catch (error) {
      await this.abort();
      throw mediaError(error, `writing ${basename(this.path)}`, this.subject);
    }
  }

  /** Closes and removes the temporary file, unless the file was committed. */
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
    if (!this.done) await unlink(this.temp).catch(() => undefined);
  }
}

/** Writes a small file atomically (see AtomicFile). */
export async function writeAtomically(path: string, content: Buffer, subject: MediaSubject = BACKUP_SUBJECT): Promise<void> {
  const file = await AtomicFile.create(path, subject);
  try {
    await file.write(content);
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
}

/**
 * The medium at `path`: a drive the terminal lists, or (the CLI may name any folder) the folder itself.
 * @throws TesseraError MEDIA_ERROR when it is not there or not a folder.
 */
export async function mediaAt(path: string, standIns: string[]): Promise<MediaView> {
  const known = (await listMedia(standIns)).find((m) => m.path === path);
  if (known) return known;
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new TesseraError('MEDIA_ERROR', 'That media is not there. Insert the USB stick and choose it again.', basename(path));
  }
  if (!info.isDirectory()) throw new TesseraError('MEDIA_ERROR', 'Choose the USB stick (a folder), not a file.');
  return { path, label: basename(path), device: null, ...(await space(path)), source: 'lab' };
}

/**
 * Reads a whole backup file (they are bounded: `limit` bytes), or only its first `first` bytes.
 * @throws TesseraError BACKUP_INVALID when larger than `limit`; MEDIA_ERROR when it cannot be read.
 */
export async function readBackupFile(path: string, limit: number, first?: number): Promise<Buffer> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size > limit) throw new TesseraError('BACKUP_INVALID', 'This file is larger than any backup this terminal writes.', `${size} bytes`);
    if (first !== undefined) {
      const start = Buffer.alloc(Math.min(first, size));
      await handle.read(start, 0, start.length, 0);
      return start;
    }
    return await readInto(handle, size);
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TesseraError('MEDIA_ERROR', 'There is no such backup file. Is the USB stick in?', `${basename(path)}: ENOENT`);
    throw new TesseraError('MEDIA_ERROR', 'The backup file could not be read from the media.', `${basename(path)}: ${code ?? 'error'}`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * The first `size` bytes of an open file, read 1 MiB at a time straight into one buffer (the
 * kernel fills it on libuv's threads): `readFile`'s one Buffer.concat of a backup's megabytes at
 * the end held the main thread for 50-130 ms. A file that is shorter than `size` gives what it has.
 */
async function readInto(handle: FileHandle, size: number): Promise<Buffer> {
  const out = Buffer.alloc(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(out, filled, Math.min(1 << 20, size - filled), filled);
    if (bytesRead === 0) return out.subarray(0, filled);
    filled += bytesRead;
  }
  return out;
}

/** How a read-back reached the bytes: from the device itself, or (where O_DIRECT is refused) after asking the kernel to drop its cached copy. */
export type ReadBackPath = 'direct' | 'cache-dropped';

/**
 * A read-back of `what` (a backup, a manifest…) that failed, in the officers' words; `detail` says
 * what (an errno code, a count). A stick pulled out or failed while it was read is said as such.
 */
function readBackFailure(path: string, detail: string, what = 'backup'): TesseraError {
  if (GONE.has(detail)) return new StickGone(`The USB stick was removed, or failed, while the ${what} was read back from it, so the ${what} could not be checked. Insert the stick again and write the ${what} again.`, `${basename(path)}: ${detail}`);
  return new TesseraError('MEDIA_ERROR', `The ${what} could not be read back from the media.`, `${basename(path)}: ${detail}`);
}

/** An fs error's code (e.g. EINVAL), or "error". */
function errnoCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | null)?.code ?? 'error';
}

/** WebAssembly's memory, as far as it is used here (this project's TypeScript libraries leave WebAssembly out). */
declare const WebAssembly: { Memory: new (pages: { initial: number; maximum: number }) => { buffer: ArrayBuffer } };

/** Read-backs of part of a file go in whole blocks of this size (O_DIRECT reads start on a block boundary of the device). */
export const READ_BACK_BLOCK = 1 << 20;

/**
 * Page-aligned buffers of READ_BACK_BLOCK bytes for O_DIRECT reads, kept for the next read-back:
 * a WebAssembly memory starts on a page boundary (a Buffer's need not), but each new one reserves
 * gigabytes of address space and is costly to make and to collect (a backup reads back dozens).
 * They hold only what was just written to removable media (backups, whose entries are sealed;
 * manifests, transcripts, audit exports), and are zeroed before they are kept.
 */
const alignedBlocks: Uint8Array[] = [];

/** Runs `read` with an aligned block buffer of its own, which is kept for later use afterwards. */
async function withAlignedBlock<T>(read: (aligned: Uint8Array) => Promise<T>): Promise<T> {
  const aligned = alignedBlocks.pop() ?? new Uint8Array(new WebAssembly.Memory({ initial: READ_BACK_BLOCK / 65536, maximum: READ_BACK_BLOCK / 65536 }).buffer);
  try {
    return await read(aligned);
  } finally {
    aligned.fill(0);
    if (alignedBlocks.length < 2) alignedBlocks.push(aligned);
  }
}

/**
 * Reads a file just written back from the medium itself, not from the page cache (USB sticks are
 * known to lie about flushing, and a cached copy would hide it): readBlocksFromMedium from its start
 * to its end. Bounded by `limit` bytes. `what` names the file in messages ("backup", "manifest"…).
 * @throws TesseraError BACKUP_INVALID when larger than `limit` at first; MEDIA_ERROR when the file
 *   cannot be read, or grows past `limit` or shrinks while it is read.
 */
export async function readFromMedium(path: string, limit: number, what = 'backup'): Promise<{ bytes: Buffer; path: ReadBackPath }> {
  const { size } = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw readBackFailure(path, error.code ?? 'error', what);
  });
  if (size > limit) throw new TesseraError('BACKUP_INVALID', `This file is larger than any ${what} this terminal writes.`, `${size} bytes`);
  return readBlocksFromMedium(path, 0, null, limit, what);
}

/**
 * Part of a file, read back from the medium itself in this process (no `dd`: a fork of a process of
 * hundreds of MB held the main thread for 30-70 ms): the blocks (READ_BACK_BLOCK bytes each) from
 * block `first` on, `blocks` of them, or to the file's end when `blocks` is null (at most `limit`
 * bytes then). O_DIRECT, into a page-aligned buffer. A filesystem that refuses O_DIRECT (EINVAL)
 * gets `dd iflag=nocache` first (posix_fadvise DONTNEED drops the cached pages), then a plain read.
 * Pages not yet flushed must be flushed (fdatasync) first: only flushed pages can be dropped.
 * @throws TesseraError MEDIA_ERROR when the file cannot be read, is shorter than the blocks asked
 *   for, or grows past `limit` while it is read
 */
export async function readBlocksFromMedium(path: string, first: number, blocks: number | null, limit = Number.MAX_SAFE_INTEGER, what = 'backup'): Promise<{ bytes: Buffer; path: ReadBackPath }> {
  const start = first * READ_BACK_BLOCK;
  const fail = (detail: string): TesseraError => readBackFailure(path, detail, what);
  let length = blocks === null ? -1 : blocks * READ_BACK_BLOCK;
  const direct = await withDirect(path, what, async (handle, aligned) => {
    if (blocks === null) length = (await handle.stat()).size - start;
    if (length < 0) throw fail('the file shrank while it was read back');
    if (length > limit) throw fail('the file grew while it was read back');
    const bytes = Buffer.alloc(length);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(aligned, 0, READ_BACK_BLOCK, start + filled);
      if (filled + bytesRead > length) throw fail('the file grew while it was read back');
      bytes.set(aligned.subarray(0, bytesRead), filled);
      filled += bytesRead;
      if (bytesRead < READ_BACK_BLOCK || filled === length) break;
    }
    if (filled !== length) throw fail(`${filled} of ${length} bytes read back`);
    return bytes;
  });
  if (direct) return { bytes: direct, path: 'direct' };
  if (length < 0) length = (await stat(path).catch((error: unknown) => { throw fail(errnoCode(error)); })).size - start;
  if (length < 0) throw fail('the file shrank while it was read back');
  if (length > limit) throw fail('the file grew while it was read back');
  const bytes = await readUncached(path, start, length, what);
  if (blocks !== null && bytes.length !== length) throw fail(`${bytes.length} of ${length} bytes read back`);
  return { bytes, path: 'cache-dropped' };
}

/**
 * The SHA-256 (hex) and size of a whole file as the medium gives it back now: read as
 * readBlocksFromMedium reads, a block at a time, hashed as it comes. A backup's last check, after
 * its commit (flush, rename, folder flush): the blocks read back while it was written are read once more.
 * @throws TesseraError MEDIA_ERROR when the file cannot be read
 */
export async function digestFromMedium(path: string): Promise<{ sha256: string; size: number }> {
  const fail = (detail: string): TesseraError => readBackFailure(path, detail);
  const direct = await withDirect(path, 'backup', async (handle, aligned) => {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(aligned, 0, READ_BACK_BLOCK, size);
      hash.update(aligned.subarray(0, bytesRead));
      size += bytesRead;
      if (bytesRead < READ_BACK_BLOCK) break;
    }
    return { sha256: hash.digest('hex'), size };
  });
  if (direct) return direct;
  const length = (await stat(path).catch((error: unknown) => { throw fail(errnoCode(error)); })).size;
  const bytes = await readUncached(path, 0, length, 'backup');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/**
 * `read` on `path` opened with O_DIRECT, with an aligned block buffer; null when the filesystem
 * refuses O_DIRECT (EINVAL on open or read): only then may the caller fall back to readUncached. A
 * read error from the stick itself is the very thing a read-back is there to catch, never hidden
 * behind the page cache: it is thrown.
 * @throws TesseraError MEDIA_ERROR (the errno code), or what `read` throws
 */
async function withDirect<T>(path: string, what: string, read: (handle: FileHandle, aligned: Uint8Array) => Promise<T>): Promise<T | null> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_DIRECT);
    const opened = handle;
    return await withAlignedBlock((aligned) => read(opened, aligned));
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    if (errnoCode(error) !== 'EINVAL') throw readBackFailure(path, errnoCode(error), what);
    return null;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * `length` bytes of `path` from `start` (fewer where the file ends first), where O_DIRECT is
 * refused: the kernel is asked to drop its cached pages of the file first (`dd iflag=nocache
 * count=0`: posix_fadvise DONTNEED), then the file is read. If the cache could not be dropped (no
 * `dd`, or it failed), the bytes would come from memory, not the stick: that is an error.
 * @throws TesseraError MEDIA_ERROR when the cache could not be dropped or the file cannot be read
 */
async function readUncached(path: string, start: number, length: number, what: string): Promise<Buffer> {
  const dropped = await new Promise<string | null>((resolve) => {
    const child = spawn('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    child.on('error', (error) => resolve(`dd: ${errnoCode(error)}`));
    child.on('close', (code, signal) => resolve(code === 0 ? null : `dd stopped (${code ?? signal})`));
  });
  if (dropped) {
    // dd also fails when the stick went away meanwhile: then say that.
    const gone = await stat(path).then(() => null, (error: unknown) => errnoCode(error));
    if (gone !== null && GONE.has(gone)) throw readBackFailure(path, gone, what);
    throw new TesseraError('MEDIA_ERROR', `The ${what} could not be read back from the media: this filesystem refuses direct reads, and the terminal could not make sure the copy in memory was not read instead.`, `${basename(path)}: ${dropped}`);
  }
  let handle: FileHandle | null = null;
  try {
    handle = await open(path, 'r');
    const out = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(out, filled, Math.min(1 << 20, length - filled), start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return out.subarray(0, filled);
  } catch (error) {
    throw readBackFailure(path, errnoCode(error), what);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
