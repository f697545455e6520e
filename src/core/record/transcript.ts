// The ceremony transcript on the media: a JSON file (the record) and its PDF printout beside it,
// signed together by the partition's audit key, and checked offline by `ceremony verify`.
//
// The signed bytes (documented for outside verifiers; never change them, add a new statement name
// instead) are the UTF-8 JSON text, without spaces, of the array
//   ["tessera-transcript-v1", <transcript digest>, <PDF SHA-256>]
// where the transcript digest is SHA-256 of canonicalJson(transcript) (object keys sorted, no
// spaces) and both are 64 lowercase hex digits; signed with ECDSA P-256 over SHA-256, r || s, the
// key recorded as DER SubjectPublicKeyInfo (base64) and its SHA-256 fingerprint (hex), exactly as
// the audit log's seals are (docs/audit-record.md section 3).
import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream, lstatSync } from 'node:fs';
import { type FileHandle, lstat, open, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { TRANSCRIPT_FORMAT, type TranscriptBody, type TranscriptFile, type TranscriptVerification } from '../../shared/transcript';
import { keyFingerprint } from '../audit/seal';
import { AtomicFile, type MediaSubject, StickGone, mediaError, readFromMedium } from '../backup/media';
import { TesseraError } from '../errors';
import { verifyData } from '../hsm/ec-signing';
import { canonicalJson } from '../policy/policy';

/** The largest transcript JSON read or written (a long ceremony is a few hundred kB). */
export const MAX_TRANSCRIPT_BYTES = 16 * 1024 * 1024;

const TRANSCRIPT_WORDS: MediaSubject = { thing: 'transcript', again: 'write the transcript again' };

// ---- the format ----

/**
 * The format's schemas, built at their first use: zod takes milliseconds to build them, which every
 * `tessera` command would otherwise pay when the terminal loads, writing a transcript or not.
 */
function buildSchemas() {
  const text = z.string().max(100_000);
  const list = <T extends z.ZodType>(item: T) => z.array(item).max(10_000);
  const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
  const time = z.iso.datetime();
  const place = { label: text, serial: text };

  const stepSchema = z.strictObject({
    n: z.number().int().min(0),
    title: text,
    do: text,
    by: list(text),
    expected: text.nullable(),
    outcome: z.enum(['done', 'failed', 'cancelled', 'skipped', 'confirmed', 'not reached']),
    started: time.nullable(),
    ended: time.nullable(),
    details: list(text),
    cards: list(z.strictObject({ holder: text, card: text })),
  });

  // The transcript body, strictly: what writeTranscript signs and verifyTranscriptFile accepts.
  const transcriptBodySchema = z.strictObject({
    format: z.literal(TRANSCRIPT_FORMAT),
    practice: z.boolean(),
    title: text,
    script: z.strictObject({ file: text, sha256: hex64 }),
    partition: z.strictObject({ ...place, script: z.strictObject(place) }),
    terminal: z.strictObject({ installation: text, workstationUser: text }),
    roster: z.strictObject({ administrator: text, witnesses: list(text), officers: list(z.strictObject({ name: text, roles: list(text) })) }),
    preconditions: list(z.strictObject({ what: text, met: z.boolean(), detail: text })),
    steps: list(stepSchema),
    exceptions: list(z.strictObject({ step: z.number().int().min(0), time, by: text, text, then: z.enum(['continued', 'stopped']) })),
    started: time,
    ended: time,
    outcome: z.enum(['completed', 'stopped', 'failed', 'cancelled']),
    audit: z.strictObject({ from: z.number().int().min(0), through: z.number().int().min(0) }),
  });

  const transcriptFileSchema = z.strictObject({
    format: z.literal(TRANSCRIPT_FORMAT),
    transcript: transcriptBodySchema,
    digest: hex64,
    pdf: z.strictObject({ file: text, sha256: hex64 }),
    signature: z.strictObject({
      statement: z.literal(TRANSCRIPT_FORMAT),
      key: hex64,
      publicKey: z.string().max(1024).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
      signature: z.string().max(1024).regex(/^([0-9a-f]{2})+$/, 'must be lowercase hex'),
      partition: text,
    }),
  });
  return { transcriptBodySchema, transcriptFileSchema };
}
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | null = null;
const schemas = (): Schemas => (built ??= buildSchemas());

// The schema and the shared types describe the same file: a compile error when one changes alone.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaIsTheType: Same<z.infer<Schemas['transcriptFileSchema']>, TranscriptFile> = true;

/** SHA-256 (lowercase hex) of canonicalJson(body): what the transcript's signature covers. */
export function transcriptDigest(body: TranscriptBody): string {
  return createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
}

/**
 * The exact bytes the partition signs: the UTF-8 JSON text, without spaces, of
 * `["tessera-transcript-v1", digest, pdfSha256]` (both 64 lowercase hex digits). Stable.
 */
export function transcriptStatement(digest: string, pdfSha256: string): Buffer {
  return Buffer.from(JSON.stringify([TRANSCRIPT_FORMAT, digest, pdfSha256]), 'utf8');
}

/** A name that stays in its folder: no path separators, not "." or "..", no control characters. */
export function isBareFileName(name: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  return name.length > 0 && name.length <= 200 && name !== '.' && name !== '..' && !/[/\\:\u0000-\u001f]/.test(name) && basename(name) === name;
}

// ---- writing ----

/** What the partition gives back for a statement: its audit public key (SPKI DER), ECDSA r || s, and its serial. */
export interface TranscriptSignerResult {
  spki: Buffer;
  signature: Buffer;
  partition: string;
}

/** Signs a statement with the partition's audit key (signData in a crypto-officer session). */
export type TranscriptSigner = (statement: Buffer) => TranscriptSignerResult | Promise<TranscriptSignerResult>;

/** The two files written, with the transcript's digest and each file's SHA-256 (hex). */
export interface WrittenTranscript {
  json: string;
  pdf: string;
  digest: string;
  sha256: { json: string; pdf: string };
}

/**
 * Writes a run's transcript into `folder` as `<baseName>.transcript.json` and `.pdf` (then `-2`,
 * `-3`… when taken: an existing file is never overwritten). The body is checked against the format
 * first, the PDF rendered, the statement signed through `sign` and the signature checked, all
 * before anything is written, so a refused signature leaves nothing behind. Then each file is
 * written atomically and both are read back from the medium itself and compared with the bytes
 * written; when that fails both are removed.
 * @throws TesseraError INTERNAL when `baseName` is not a bare file name or the body is not a well-formed
 *   transcript; HSM_ERROR when the signature does not verify (and whatever `sign` throws);
 *   MEDIA_ERROR when the stick cannot be written or gives back other bytes.
 */
export async function writeTranscript(folder: string, baseName: string, body: TranscriptBody, sign: TranscriptSigner): Promise<WrittenTranscript> {
  if (!isBareFileName(baseName)) throw new TesseraError('INTERNAL', 'The transcript could not be written: its file name is not a plain file name.', baseName);
  const checked = schemas().transcriptBodySchema.safeParse(body);
  if (!checked.success) throw new TesseraError('INTERNAL', 'The transcript could not be written: it is not well-formed.', describeIssue(checked.error.issues[0]));
  const transcript = checked.data;
  const digest = transcriptDigest(transcript);
  // pdfkit and its fonts cost a command that writes no transcript ~100 ms at start: loaded here only.
  const { renderTranscriptPdf } = await import('./transcript-pdf');
  const pdfBytes = await renderTranscriptPdf(transcript, digest);
  const pdfSha = sha256(pdfBytes);
  const statement = transcriptStatement(digest, pdfSha);
  const signed = await sign(statement);
  if (!verifyData(signed.spki, statement, signed.signature)) {
    throw new TesseraError('HSM_ERROR', "The partition's signature over the transcript does not verify. Nothing was written.", `key ${keyFingerprint(signed.spki)}`);
  }

  const names = await freeNames(folder, baseName);
  const file: TranscriptFile = {
    format: TRANSCRIPT_FORMAT,
    transcript,
    digest,
    pdf: { file: basename(names.pdf), sha256: pdfSha },
    signature: { statement: TRANSCRIPT_FORMAT, key: keyFingerprint(signed.spki), publicKey: signed.spki.toString('base64'), signature: signed.signature.toString('hex'), partition: signed.partition },
  };
  const jsonBytes = Buffer.from(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
  if (jsonBytes.length > MAX_TRANSCRIPT_BYTES) throw new TesseraError('INTERNAL', 'The transcript could not be written: it is larger than a transcript may be.', `${jsonBytes.length} bytes`);

  await writeNew(names.pdf, pdfBytes);
  try {
    await writeNew(names.json, jsonBytes);
  } catch (error) {
    await unlink(names.pdf).catch(() => undefined);
    throw error;
  }
  let wrong: string | null;
  try {
    wrong = (await readsBack(names.pdf, pdfBytes)) ?? (await readsBack(names.json, jsonBytes));
  } catch (error) {
    // The stick went away while it was read back (StickGone): said as such, not as an unreliable stick.
    await unlink(names.json).catch(() => undefined);
    await unlink(names.pdf).catch(() => undefined);
    throw error;
  }
  if (wrong) {
    await unlink(names.json).catch(() => undefined);
    await unlink(names.pdf).catch(() => undefined);
    throw new TesseraError('MEDIA_ERROR', 'The transcript read back from the USB stick is not what was written: the stick is unreliable. Its files were removed; use another stick and write the transcript again.', wrong);
  }
  return { json: names.json, pdf: names.pdf, digest, sha256: { json: sha256(jsonBytes), pdf: pdfSha } };
}

/** The first `<base>[-n].transcript.json`/`.pdf` pair of which neither file (nor a half-written one) exists. */
async function freeNames(folder: string, baseName: string): Promise<{ json: string; pdf: string }> {
  try {
    if (!(await stat(folder)).isDirectory()) throw new TesseraError('MEDIA_ERROR', 'Choose the USB stick (a folder), not a file, for the transcript.', basename(folder));
  } catch (error) {
    throw mediaError(error, `opening ${basename(folder)}`, TRANSCRIPT_WORDS);
  }
  for (let n = 1; n <= 1000; n++) {
    const stem = join(folder, n === 1 ? `${baseName}.transcript` : `${baseName}-${n}.transcript`);
    const names = { json: `${stem}.json`, pdf: `${stem}.pdf` };
    const taken = await Promise.all([names.json, names.pdf, `${names.json}.partial`, `${names.pdf}.partial`].map(exists));
    if (!taken.includes(true)) return names;
  }
  throw new TesseraError('MEDIA_ERROR', `The USB stick already holds 1000 transcripts named “${baseName}”. Use another stick.`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw mediaError(error, `looking at ${basename(path)}`, TRANSCRIPT_WORDS);
  }
}

/** Writes `path` atomically; a file that appeared there meanwhile is left alone and the write refused. */
async function writeNew(path: string, bytes: Buffer): Promise<void> {
  const file = await AtomicFile.create(path, TRANSCRIPT_WORDS);
  try {
    await file.write(bytes);
  } catch (error) {
    await file.abort();
    throw error;
  }
  // The rename would replace a file of that name; the check narrows that to the instant between them.
  await file.commit(() => {
    if (existsNow(path)) throw new TesseraError('MEDIA_ERROR', 'Another file with the transcript’s name appeared on the USB stick while it was written. Nothing was overwritten; write the transcript again.', basename(path));
  });
}

/** Synchronous, because commit's hook runs right before the rename; anything but "no such file" counts as taken. */
function existsNow(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * Why `path` does not read back from the medium as `written`, or null when it does.
 * @throws TesseraError MEDIA_ERROR when the stick was pulled out or failed meanwhile (StickGone)
 */
async function readsBack(path: string, written: Buffer): Promise<string | null> {
  try {
    const { bytes } = await readFromMedium(path, written.length, 'transcript');
    return bytes.equals(written) ? null : `${basename(path)} read back differs from what was written`;
  } catch (error) {
    if (error instanceof StickGone) throw error;
    // readFromMedium's detail names the file already.
    return error instanceof TesseraError ? (error.detail ?? `${basename(path)}: ${error.message}`) : `${basename(path)}: read back failed`;
  }
}

// ---- verifying ----

/**
 * Checks a transcript file offline (no database, keychain or partition): it is a well-formed
 * `tessera-transcript-v1` file of at most MAX_TRANSCRIPT_BYTES, the digest it signs is that of its
 * transcript, the signature over the statement verifies with the key it carries and that key's
 * fingerprint is the one it names; with `signer` (a fingerprint, hex, spaces and colons allowed),
 * the key must be that one. The PDF named beside it (a bare file name in the same folder) must be
 * the signed one when it is there; a missing PDF is said but leaves the transcript valid.
 * Never throws: anything wrong comes back as `valid: false` with the problem in officers' words.
 */
export async function verifyTranscriptFile(path: string, options: { signer?: string } = {}): Promise<TranscriptVerification> {
  const result: TranscriptVerification = { file: path, valid: false, problem: null, practice: null, title: null, outcome: null, partition: null, digest: null, signer: null, signerChecked: false, pdf: null, pdfFile: null };
  const fail = (problem: string): TranscriptVerification => ({ ...result, valid: false, problem });

  const expected = options.signer === undefined ? null : options.signer.replace(/[\s:]/g, '').toLowerCase();
  if (expected !== null && !/^[0-9a-f]{64}$/.test(expected)) return fail('The signer given is not a key fingerprint (64 hex digits).');

  const read = await readTranscriptBytes(path);
  if (typeof read === 'string') return fail(read);
  let json: unknown;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(read);
    json = JSON.parse(decoded);
  } catch {
    if (read.subarray(0, 5).toString('latin1') === '%PDF-') return fail('This file is the printout (PDF); give the transcript itself, the .transcript.json beside it: its signature covers the printout too.');
    if (read.subarray(0, 200).toString('utf8').includes('"tessera-audit-export-v1"')) return fail('This file is an audit export, not a transcript: check it with tessera audit verify-export.');
    return fail('This file is not a transcript: it is not JSON text (it may be cut short or garbled).');
  }
  if (!json || typeof json !== 'object' || (json as { format?: unknown }).format !== TRANSCRIPT_FORMAT) {
    return fail(`This file is not a Tessera transcript (${TRANSCRIPT_FORMAT}).`);
  }
  const parsed = schemas().transcriptFileSchema.safeParse(json);
  if (!parsed.success) return fail(`This transcript file is malformed (${describeIssue(parsed.error.issues[0])}): it was altered or damaged.`);
  // The signature covers the parsed transcript, not the file's text: a key given twice (JSON.parse
  // keeps the last, a person or another reader may take the first), an escaped key or any other
  // spelling would let the file show what was not signed. Only the text Tessera writes is accepted.
  if (decoded.replace(/\n$/, '') !== JSON.stringify(json, null, 2)) {
    return fail('This transcript file is not as Tessera wrote it (a key given twice, escaped or reformatted): it was altered.');
  }
  const file = parsed.data;
  const body = file.transcript;
  Object.assign(result, { practice: body.practice, title: body.title, outcome: body.outcome, partition: { label: body.partition.label, serial: body.partition.serial }, digest: transcriptDigest(body), pdfFile: file.pdf.file });

  if (!isBareFileName(file.pdf.file)) return fail(`The transcript names its PDF “${file.pdf.file}”, which is not a file beside it: refused (the name must have no folder in it).`);
  const spki = Buffer.from(file.signature.publicKey, 'base64');
  if (keyFingerprint(spki) !== file.signature.key) {
    return fail(`The signature was altered: the key it names (${file.signature.key}) is not the public key it carries (${keyFingerprint(spki)}).`);
  }
  result.signer = file.signature.key;
  if (!verifyData(spki, transcriptStatement(file.digest, file.pdf.sha256), Buffer.from(file.signature.signature, 'hex'))) {
    return fail('The signature does not match this file: the signed digests (of the transcript or of its PDF) or the signature itself were altered.');
  }
  if (result.digest !== file.digest) return fail(`The transcript was altered: its digest is ${result.digest} but the signed digest is ${file.digest}.`);
  if (file.signature.partition !== body.partition.serial) {
    return fail(`The signature names partition serial ${file.signature.partition}, but the transcript ran on serial ${body.partition.serial}: the file was altered.`);
  }
  if (expected !== null) {
    if (file.signature.key !== expected) return fail(`The transcript was signed by key ${file.signature.key}, not by the audit key given (${expected}): that partition did not sign it.`);
    result.signerChecked = true;
  }

  const pdfPath = join(dirname(path), file.pdf.file);
  const pdfSha = await fileSha256(pdfPath);
  if (pdfSha === 'missing') return { ...result, valid: true, pdf: 'missing' };
  if (pdfSha === 'unreadable') return fail(`The PDF beside it (${file.pdf.file}) could not be read.`);
  if (pdfSha !== file.pdf.sha256) {
    return { ...fail(`The PDF beside it (${file.pdf.file}) is not the one that was signed: it was altered or replaced. The JSON transcript is the record.`), pdf: 'altered' };
  }
  return { ...result, valid: true, pdf: 'matches' };
}

/** The file's bytes, or why they cannot be read, in officers' words. */
async function readTranscriptBytes(path: string): Promise<Buffer | string> {
  let handle: FileHandle | null = null;
  try {
    // Non-blocking, so that a named pipe is refused as not a file instead of waiting forever for a writer.
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const info = await handle.stat();
    if (!info.isFile()) return 'That is not a file: give the .transcript.json file.';
    if (info.size > MAX_TRANSCRIPT_BYTES) return `This file is larger than any transcript (${info.size} bytes; at most ${MAX_TRANSCRIPT_BYTES}): it is not one.`;
    const bytes = Buffer.alloc(info.size);
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0);
    return bytes.subarray(0, bytesRead);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'There is no such file. Is the USB stick in?' : `The file could not be read (${code ?? 'error'}).`;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** SHA-256 (hex) of a regular file, streamed (a PDF has no size limit of its own). */
async function fileSha256(path: string): Promise<string | 'missing' | 'unreadable'> {
  try {
    if (!(await stat(path)).isFile()) return 'unreadable';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return 'unreadable';
  }
  return hash.digest('hex');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'unknown';
  const where = issue.path.length > 0 ? issue.path.join(' › ') : 'the top level';
  return `${where}: ${issue.message}`;
}
