// The backup file (docs/backup-format.md): a magic and version, then framed records: one header
// (JSON, in clear: what a verifier needs without cards), the entries (each an object's description
// and wrapped key material, encrypted under the backup's content key), and a trailer with the
// SHA-256 of every byte before it and the partition backup-signing key's signature over them.
// Reading checks framing, order, counts, the checksum and the signature before anything is
// decrypted or unwrapped; any other byte sequence is rejected.
import { type KeyObject, createCipheriv, createDecipheriv, createHash, createPublicKey, randomFillSync, verify as verifySignature, webcrypto } from 'node:crypto';
import { z } from 'zod';
import { fingerprint } from './escrow';
import { pacer } from './pacer';

export const MAGIC = Buffer.from('TESSERA-BACKUP\n\0', 'latin1');
export const FORMAT_VERSION = 1;
export const FILE_EXTENSION = '.tsrbackup';
export const MANIFEST_SUFFIX = '.manifest.json';
const RECORD = { header: 1, entry: 2, trailer: 3 } as const;
const LIMITS = { header: 1 << 20, entry: 1 << 20, trailer: 1 << 16, entries: 1_000_000 };
export const MAX_FILE_BYTES = 1 << 30;

export const objectClasses = ['data', 'certificate', 'public-key', 'private-key', 'secret-key'] as const;
export type ObjectClassName = (typeof objectClasses)[number];

/**
 * The file's schemas, built at their first use: zod takes milliseconds to build these, which every
 * `tessera` command would otherwise pay when the terminal loads, reading a backup or not.
 */
function buildSchemas() {
  const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
  const hex = z.string().regex(/^[0-9a-f]*$/);

  const headerSchema = z
    .object({
      format: z.literal('tessera-backup'),
      version: z.literal(FORMAT_VERSION),
      backupId: z.string().uuid(),
      created: z.string().datetime(),
      partition: z.object({ label: z.string().max(64), serial: z.string().max(64), manufacturer: z.string().max(64), model: z.string().max(64) }).strict(),
      entries: z.number().int().min(0).max(LIMITS.entries),
      objects: z.number().int().min(0),
      excluded: z.number().int().min(0),
      mechanisms: z
        .object({
          keyWrap: z.object({ name: z.string().max(64), value: z.number().int().min(0) }).strict(),
          kem: z.literal('X25519-HKDF-SHA256'),
          content: z.literal('AES-256-GCM'),
          signature: z.literal('ECDSA-P256-SHA256'),
        })
        .strict(),
      escrow: z.object({ publicKey: b64, fingerprint: hex.length(64) }).strict(),
      ephemeralPublic: b64,
      signer: z.object({ publicKey: b64, fingerprint: hex.length(64), id: hex }).strict(),
      backupSet: z.object({ set: hex.length(32), generation: z.number().int().min(1), descriptorHash: hex.length(64) }).strict(),
    })
    .strict()
    .refine((h) => h.objects + h.excluded === h.entries, 'objects + excluded must equal entries');


  const trailerSchema = z.object({ entries: z.number().int().min(0), sha256: hex.length(64), signature: b64 }).strict();

  const attributeSchema = z.object({ type: z.number().int().min(0), name: z.string().max(64), value: z.union([z.boolean(), z.number().int().min(0), z.string()]) }).strict();


  const checkSchema = z.union([
    z.object({ kind: z.literal('check-value'), value: hex }).strict(),
    z.object({ kind: z.literal('rsa-modulus'), modulus: hex }).strict(),
    z.object({ kind: z.literal('ec-public'), params: hex, point: hex }).strict(),
    z.object({ kind: z.literal('none'), reason: z.string().max(200) }).strict(),
  ]);

  const entrySchema = z.discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('object'),
        index: z.number().int().min(0),
        class: z.enum(objectClasses),
        label: z.string().max(1024),
        id: hex.max(512),
        keyType: z.number().int().min(0).nullable(),
        attributes: z.array(attributeSchema).max(64),
        wrapped: b64.optional(),
        check: checkSchema.optional(),
      })
      .strict(),
    z.object({ kind: z.literal('excluded'), index: z.number().int().min(0), class: z.enum(objectClasses), label: z.string().max(1024), id: hex.max(512), reason: z.string().max(300) }).strict(),
  ]);
  return { b64, headerSchema, trailerSchema, attributeSchema, checkSchema, entrySchema };
}
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | null = null;
const schemas = (): Schemas => (built ??= buildSchemas());

export type BackupHeader = z.infer<Schemas['headerSchema']>;
export type BackupTrailer = z.infer<Schemas['trailerSchema']>;
export type RecordedAttribute = z.infer<Schemas['attributeSchema']>;
export type KeyCheck = z.infer<Schemas['checkSchema']>;
export type EntryBody = z.infer<Schemas['entrySchema']>;

export interface SealedEntry {
  index: number;
  nonce: Buffer;
  sealed: Buffer;
}

// ---- writing ----

function record(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export function fileStart(header: BackupHeader): Buffer {
  const version = Buffer.alloc(2);
  version.writeUInt16BE(FORMAT_VERSION);
  return Buffer.concat([MAGIC, version, record(RECORD.header, Buffer.from(JSON.stringify(header)))]);
}

function entryAad(backupId: string, index: number): Buffer {
  return Buffer.from(`tessera-backup-v1 entry\0${backupId}\0${index}`);
}

/**
 * One entry record: type, length, index (u32), nonce (12 bytes), then `body`'s JSON encrypted
 * under `contentKey` (AES-256-GCM, the backup id and index as associated data) and the 16-byte tag.
 * Built in one buffer (no joins of parts); the plaintext is overwritten once sealed.
 */
export function sealEntry(body: EntryBody, contentKey: Buffer, backupId: string): Buffer {
  const plain = Buffer.from(JSON.stringify(body));
  try {
    return seal(plain, body.index, contentKey, backupId, randomFillSync(Buffer.alloc(12)));
  } finally {
    plain.fill(0);
  }
}

/** The record of `plain` (see sealEntry) under `nonce`, which must never have been used with `contentKey`. */
function seal(plain: Buffer, index: number, contentKey: Buffer, backupId: string, nonce: Buffer, aad = entryAad(backupId, index)): Buffer {
  const out = Buffer.allocUnsafe(5 + 4 + 12 + plain.length + 16);
  out.writeUInt8(RECORD.entry, 0);
  out.writeUInt32BE(out.length - 5, 1);
  out.writeUInt32BE(index, 5);
  nonce.copy(out, 9);
  const cipher = createCipheriv('aes-256-gcm', contentKey, nonce);
  cipher.setAAD(aad);
  // AES-GCM gives as many bytes as it takes: update and final fill exactly the room for the ciphertext.
  let at = 21 + cipher.update(plain).copy(out, 21);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/**
 * An entry's plaintext made before its wrapped key exists: the JSON of its body up to the place of
 * the wrapped key (`head`) and after it (`tail`, null for an entry that carries none). A backup
 * prepares its entries before the officers confirm, so that afterwards only the wrapped keys the
 * HSM gives are put in (EntrySealer.seal).
 */
export interface PreparedEntry {
  index: number;
  head: Buffer;
  tail: Buffer | null;
}

/**
 * Checks `body` as a restore will (entrySchema), and prepares its JSON. `body` comes without its
 * wrapped key; `wraps` says whether one goes in (as `wrapped`, after `attributes` and before
 * `check`, where JSON.stringify of the whole body puts it). The schema's checks of the fields are
 * independent of one another, so this check (with an empty `wrapped`) and EntrySealer.seal's base64
 * of the wrapped key's bytes (valid base64 by construction) give a body the schema accepts whole.
 * @returns null when a restore would refuse the body (or it already holds a wrapped key)
 */
export function prepareEntry(body: EntryBody, wraps: boolean): PreparedEntry | null {
  if ('wrapped' in body || (wraps && body.kind !== 'object')) return null;
  if (!schemas().entrySchema.safeParse(wraps ? { ...body, wrapped: '' } : body).success) return null;
  if (!wraps || body.kind !== 'object') return { index: body.index, head: Buffer.from(JSON.stringify(body)), tail: null };
  const { check, ...rest } = body;
  const json = JSON.stringify(rest);
  return {
    index: body.index,
    head: Buffer.from(`${json.slice(0, -1)},"wrapped":"`),
    tail: Buffer.from(`"${check === undefined ? '' : `,"check":${JSON.stringify(check)}`}}`),
  };
}

/** Nonces drawn from the system's random source at a time: one call per entry cost more than the entry's encryption. */
const NONCES_AT_ONCE = 256;

/**
 * Seals the prepared entries of one backup under its content key, each checked: the record is
 * opened again from its very bytes, as a restore opens it, and must give back exactly the
 * plaintext that was sealed (byte for byte). The wrapped key goes in as base64 (as entrySchema
 * has it), encoded here from the HSM's bytes. The plaintext is overwritten once sealed.
 */
export class EntrySealer {
  private nonces = Buffer.alloc(0);
  private nextNonce = 0;

  constructor(
    private readonly contentKey: Buffer,
    private readonly backupId: string,
  ) {}

  /**
   * The record of `entry` with `wrapped` (the wrapped key's bytes, null for an entry that carries
   * none) put in, as base64.
   * @returns the record; null when a wrapped key is given where none is expected or missing where
   *   one is, or the record does not open as sealed
   */
  seal(entry: PreparedEntry, wrapped: Buffer | null): Buffer | null {
    if ((wrapped === null) !== (entry.tail === null)) return null;
    const { head, tail } = entry;
    const base64 = wrapped?.toString('base64') ?? '';
    const plain = Buffer.allocUnsafe(head.length + base64.length + (tail?.length ?? 0));
    head.copy(plain, 0);
    if (tail) tail.copy(plain, head.length + plain.write(base64, head.length, 'latin1'));
    try {
      const aad = entryAad(this.backupId, entry.index);
      const record = seal(plain, entry.index, this.contentKey, this.backupId, this.nonce(), aad);
      const sealed = entryInRecord(record);
      if (!sealed || sealed.index !== entry.index) return null;
      const decipher = createDecipheriv('aes-256-gcm', this.contentKey, sealed.nonce, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.sealed.subarray(sealed.sealed.length - 16));
      // AES-GCM gives as many bytes as it takes: update gives them all, final only checks the tag.
      const opened = decipher.update(sealed.sealed.subarray(0, sealed.sealed.length - 16));
      decipher.final();
      const same = opened.equals(plain);
      opened.fill(0);
      return same ? record : null;
    } catch {
      return null;
    } finally {
      plain.fill(0);
    }
  }

  /** The next fresh 96-bit nonce (a view on the batch drawn last; each is used once). */
  private nonce(): Buffer {
    if (this.nextNonce >= this.nonces.length) {
      this.nonces = randomFillSync(Buffer.alloc(12 * NONCES_AT_ONCE));
      this.nextNonce = 0;
    }
    this.nextNonce += 12;
    return this.nonces.subarray(this.nextNonce - 12, this.nextNonce);
  }
}

/**
 * The entry in one record as `sealEntry` framed it (type, length, index, nonce, ciphertext and
 * tag), for checking that it opens before it is written; null when the bytes are no entry record.
 */
export function entryInRecord(bytes: Buffer): SealedEntry | null {
  if (bytes.length < 5 + 4 + 12 + 16 || bytes.readUInt8(0) !== RECORD.entry || bytes.readUInt32BE(1) !== bytes.length - 5) return null;
  return { index: bytes.readUInt32BE(5), nonce: bytes.subarray(9, 21), sealed: bytes.subarray(21) };
}

export function fileEnd(trailer: BackupTrailer): Buffer {
  return record(RECORD.trailer, Buffer.from(JSON.stringify(trailer)));
}

// ---- reading ----

export interface ParsedBackup {
  header: BackupHeader;
  entries: SealedEntry[];
  trailer: BackupTrailer;
  sha256: string;
  size: number;
}

export type Verdict = { valid: true; backup: ParsedBackup } | { valid: false; problem: string; header: BackupHeader | null };

/** A file whose records are framed, ordered and counted as written; its digests not yet checked. */
interface Framed {
  header: BackupHeader;
  entries: SealedEntry[];
  trailer: BackupTrailer;
  /** The bytes the trailer's checksum and signature cover: everything before the trailer record. */
  signed: Buffer;
}

type Framing = Generator<void, Framed | Extract<Verdict, { valid: false }>, void>;

/** Records framed between two pauses of `framing`: a backup of thousands of keys is framed in slices. */
const FRAME_SLICE = 256;

/** Framing, order and counts, all at once (see framing). */
function frame(bytes: Buffer): Framed | Extract<Verdict, { valid: false }> {
  return run(framing(bytes));
}

/** Framing, order and counts, giving the event loop a turn whenever `yieldNow` says between slices of records. */
async function frameAsync(bytes: Buffer, yieldNow: () => Promise<void>): Promise<Framed | Extract<Verdict, { valid: false }>> {
  const steps = framing(bytes);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldNow();
  }
}

type Bad = Extract<Verdict, { valid: false }>;

/**
 * Framing, order and counts: every check but the digests and the signer (linear, no hashing), of a
 * file whole or (a backup's read-back, as it is written) of its first bytes as they come.
 */
class Framer {
  /** `views`: entries are views on the bytes given (which must then stay as they are), not copies. */
  constructor(private readonly views = false) {}

  private header: BackupHeader | null = null;
  private readonly entries: SealedEntry[] = [];
  private trailer: BackupTrailer | null = null;
  private trailerStart = -1;
  /** Where the next record starts; 0 until the magic and version are checked. */
  private offset = 0;

  private bad(problem: string): Bad {
    return { valid: false, problem, header: this.header };
  }

  /**
   * Checks the records wholly inside `bytes`, the file's first bytes (the same bytes again, and
   * more, at each call). Unless `complete`, a record cut off at the end is left for the next call.
   * Pauses (yields) after every FRAME_SLICE records: for a file of thousands of entries the loop
   * alone held the main thread for tens of milliseconds.
   * @returns a problem, or null when every record so far is as written
   */
  *records(bytes: Buffer, complete: boolean): Generator<void, Bad | null, void> {
    if (this.offset === 0) {
      if (!complete && bytes.length < MAGIC.length + 2) return null;
      if (bytes.length < MAGIC.length + 2 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return this.bad('This is not a Tessera backup file.');
      const version = bytes.readUInt16BE(MAGIC.length);
      if (version !== FORMAT_VERSION) return this.bad(`This backup has format version ${version}; this terminal reads version ${FORMAT_VERSION}.`);
      this.offset = MAGIC.length + 2;
    }
    while (this.offset < bytes.length) {
      const offset = this.offset;
      if (this.trailer) return this.bad('The file goes on after its end record: something was appended.');
      if (offset + 5 > bytes.length) return complete ? this.bad('The file is truncated (a record header is cut off).') : null;
      const type = bytes.readUInt8(offset);
      const length = bytes.readUInt32BE(offset + 1);
      const start = offset + 5;
      if (start + length > bytes.length) return complete ? this.bad('The file is truncated (its last record is cut off).') : null;
      const payload = bytes.subarray(start, start + length);
      if (type === RECORD.header) {
        if (this.header || this.entries.length > 0) return this.bad('The file has a second header: records were spliced in.');
        if (length > LIMITS.header) return this.bad('The header is larger than any this terminal writes.');
        const parsed = schemas().headerSchema.safeParse(parseJson(payload));
        if (!parsed.success) return this.bad('The header is damaged or not one this terminal writes.');
        this.header = parsed.data;
      } else if (type === RECORD.entry) {
        if (!this.header) return this.bad('An entry comes before the header.');
        if (length > LIMITS.entry || length < 4 + 12 + 16) return this.bad('An entry has an impossible size.');
        const index = payload.readUInt32BE(0);
        if (index !== this.entries.length) return this.bad(`Entry ${this.entries.length + 1} carries the number ${index + 1}: entries were reordered, duplicated or removed.`);
        if (this.entries.length >= this.header.entries) return this.bad('The file has more entries than its header declares: entries were added or duplicated.');
        const nonce = payload.subarray(4, 16);
        const sealed = payload.subarray(16);
        this.entries.push(this.views ? { index, nonce, sealed } : { index, nonce: Buffer.from(nonce), sealed: Buffer.from(sealed) });
        if (this.entries.length % FRAME_SLICE === 0) {
          this.offset = start + length;
          yield;
          continue;
        }
      } else if (type === RECORD.trailer) {
        if (!this.header) return this.bad('The end record comes before the header.');
        if (length > LIMITS.trailer) return this.bad('The end record is larger than any this terminal writes.');
        const parsed = schemas().trailerSchema.safeParse(parseJson(payload));
        // Only the exact bytes this terminal writes: base64 and JSON have other spellings of the
        // same values, and a changed byte must never pass, even where it would mean the same.
        if (!parsed.success || !Buffer.from(JSON.stringify(parsed.data)).equals(payload) || Buffer.from(parsed.data.signature, 'base64').toString('base64') !== parsed.data.signature) {
          return this.bad('The end record is damaged.');
        }
        this.trailer = parsed.data;
        this.trailerStart = offset;
      } else {
        return this.bad(`The file has a record of unknown type ${type}: it is damaged.`);
      }
      this.offset = start + length;
    }
    return null;
  }

  /** The framed file, once `records` has seen all of `bytes` (complete) without a problem. */
  framed(bytes: Buffer): Framed | Bad {
    const { header, trailer } = this;
    if (!header) return this.bad('The file has no header.');
    if (!trailer) return this.bad('The file is incomplete: its end record is missing (the backup was not finished, or the file was cut short).');
    if (this.entries.length !== header.entries || trailer.entries !== header.entries) return this.bad(`The file holds ${this.entries.length} entries; its header declares ${header.entries}: entries are missing.`);
    return { header, entries: this.entries, trailer, signed: bytes.subarray(0, this.trailerStart) };
  }
}

/** Framing, order and counts of a whole file (Framer), pausing where Framer.records does. */
function* framing(bytes: Buffer): Framing {
  const framer = new Framer();
  return (yield* framer.records(bytes, true)) ?? framer.framed(bytes);
}

/** The header's signing key, checked against its fingerprint; a problem as text. */
function signerKey(header: BackupHeader): KeyObject | string {
  try {
    const spki = Buffer.from(header.signer.publicKey, 'base64');
    if (fingerprint(spki) !== header.signer.fingerprint) return 'The signing key in the header does not match its fingerprint.';
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return 'The signing key in the header is not a valid public key.';
  }
}

const CHECKSUM_WRONG = "The file's checksum does not match its contents: it was altered or damaged.";
const SIGNATURE_WRONG = 'The signature does not match: the backup was altered, or it was not made by the partition it names.';

/** Everything that can be checked without cards: framing, order, counts, checksum, signature. */
export function verifyBytes(bytes: Buffer): Verdict {
  const f = frame(bytes);
  if (!('signed' in f)) return f;
  return digests(f, bytes);
}

/** The checksum, the signature and the whole file's SHA-256 of a framed file, on this thread (see verifyBytes). */
function digests(f: Framed, bytes: Buffer): Verdict {
  const bad = (problem: string): Verdict => ({ valid: false, problem, header: f.header });
  if (createHash('sha256').update(f.signed).digest('hex') !== f.trailer.sha256) return bad(CHECKSUM_WRONG);
  const signer = signerKey(f.header);
  if (typeof signer === 'string') return bad(signer);
  const signature = Buffer.from(f.trailer.signature, 'base64');
  if (signer.asymmetricKeyType !== 'ec' || !verifySignature('sha256', f.signed, { key: signer, dsaEncoding: 'ieee-p1363' }, signature)) return bad(SIGNATURE_WRONG);
  return { valid: true, backup: { header: f.header, entries: f.entries, trailer: f.trailer, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length } };
}

/** Web Crypto's names of the NIST curves an ECDSA backup-signing key may be on (node's names as keys). */
const WEB_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * `verifyBytes`, the same checks and verdicts, with the three passes over the whole file (the
 * checksum, the signature's SHA-256, the file's SHA-256) run by Web Crypto on libuv's threads: for
 * a backup of thousands of keys (tens of MB) they would otherwise hold the main thread for ~100 ms.
 * Framing is checked here first (linear, no hashing), in slices between turns of the event loop. A key on a curve Web Crypto lacks is checked
 * by `verifyBytes`'s synchronous path.
 */
export async function verifyBytesAsync(bytes: Buffer): Promise<Verdict> {
  const f = await frameAsync(bytes, pacer());
  if (!('signed' in f)) return f;
  return digestsAsync(f, bytes);
}

/** `digests`, the same verdicts, with the three passes over the file run by Web Crypto on libuv's threads (see verifyBytesAsync). */
async function digestsAsync(f: Framed, bytes: Buffer): Promise<Verdict> {
  const bad = (problem: string): Verdict => ({ valid: false, problem, header: f.header });
  const hex = (digest: ArrayBuffer): string => Buffer.from(digest).toString('hex');
  const whole = webcrypto.subtle.digest('SHA-256', bytes);
  whole.catch(() => undefined); // awaited last; a verdict given earlier leaves it unneeded
  if (hex(await webcrypto.subtle.digest('SHA-256', f.signed)) !== f.trailer.sha256) return bad(CHECKSUM_WRONG);
  const signer = signerKey(f.header);
  if (typeof signer === 'string') return bad(signer);
  const curve = WEB_CURVES[signer.asymmetricKeyDetails?.namedCurve ?? ''];
  if (signer.asymmetricKeyType !== 'ec' || !curve) return verifyBytes(bytes);
  const key = await webcrypto.subtle.importKey('spki', signer.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: curve }, false, ['verify']);
  if (!(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(f.trailer.signature, 'base64'), f.signed))) return bad(SIGNATURE_WRONG);
  return { valid: true, backup: { header: f.header, entries: f.entries, trailer: f.trailer, sha256: hex(await whole), size: bytes.length } };
}

/**
 * `verifyBytesAsync` of a file that is read as it is written (a backup's read-back): `add` takes
 * the file's bytes in order as they come and checks the framing of every record they complete at
 * once, so that when the last bytes are in, `verdict` has only those and the digests to check.
 * The verdicts are verifyBytes's.
 */
export class GrowingFileCheck {
  private bytes: Buffer;
  private filled = 0;
  // Entries are views on `bytes`: a buffer outgrown is never changed, only no longer added to.
  private readonly framer = new Framer(true);
  private problem: Bad | null = null;

  /** `expected`: about how large the file will be (room is made for it at once, and grown if need be). */
  constructor(expected: number) {
    this.bytes = Buffer.alloc(Math.max(expected, 1 << 16));
  }

  /** How many bytes have come so far. */
  get size(): number {
    return this.filled;
  }

  /** The next bytes of the file (copied); the records they complete are checked. */
  add(chunk: Buffer): void {
    if (this.filled + chunk.length > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(Math.ceil(this.bytes.length * 1.5), this.filled + chunk.length));
      this.bytes.copy(grown, 0, 0, this.filled);
      this.bytes = grown;
    }
    chunk.copy(this.bytes, this.filled);
    this.filled += chunk.length;
    if (!this.problem) this.problem = run(this.framer.records(this.bytes.subarray(0, this.filled), false));
  }

  /**
   * The verdict on the bytes added, which must be the whole file. The digests are taken on this
   * thread: for a backup of 3,000 keys the three SHA-256 passes take ~15 ms here, where handing
   * them to libuv's threads (verifyBytesAsync) took 25-35 ms until the verdict.
   */
  verdict(): Verdict {
    const bytes = this.bytes.subarray(0, this.filled);
    const f = this.framed(bytes);
    return 'signed' in f ? digests(f, bytes) : f;
  }

  /**
   * `verdict`, the same verdicts, with the digests of a file over SYNC_DIGESTS_MAX bytes taken by
   * Web Crypto on libuv's threads: three passes over a backup of tens of MB would hold this thread
   * for 100 ms and more.
   */
  async verdictAsync(): Promise<Verdict> {
    if (this.filled <= SYNC_DIGESTS_MAX) return this.verdict();
    const bytes = this.bytes.subarray(0, this.filled);
    const f = this.framed(bytes);
    return 'signed' in f ? digestsAsync(f, bytes) : f;
  }

  /** The whole file's framing: the first problem found, or its records. */
  private framed(bytes: Buffer): ReturnType<Framer['framed']> | Bad {
    return this.problem ?? run(this.framer.records(bytes, true)) ?? this.framer.framed(bytes);
  }
}

/** The largest file whose three digests GrowingFileCheck takes on its own thread (~20 ms here): larger ones go to Web Crypto. */
export const SYNC_DIGESTS_MAX = 8 << 20;

/** A generator run to its end without pauses: its result. */
function run<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** An entry's description; null when it does not decrypt (wrong keys, or altered). */
export function openEntry(entry: SealedEntry, contentKey: Buffer, backupId: string): EntryBody | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', contentKey, entry.nonce, { authTagLength: 16 });
    decipher.setAAD(entryAad(backupId, entry.index));
    decipher.setAuthTag(entry.sealed.subarray(entry.sealed.length - 16));
    const plain = Buffer.concat([decipher.update(entry.sealed.subarray(0, entry.sealed.length - 16)), decipher.final()]);
    const parsed = schemas().entrySchema.safeParse(parseJson(plain));
    plain.fill(0);
    return parsed.success && parsed.data.index === entry.index ? parsed.data : null;
  } catch {
    return null;
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
