// The partition's objects as plain data: the inventory list and one object's full attribute set.
// Listing yields to the event loop every few milliseconds, so a 10,000-object partition never
// freezes the window while it is read. Every listed object gets a ref that opens exactly it,
// even where label, id and class are shared (see objectRef).
import { X509Certificate, hash } from 'node:crypto';
import { escapeLabel, labelText, toHex } from '../../shared/label-text';
import type { AttributeView, ObjectClassName, ObjectDetails, ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import { A, type AttributeSpec, type AttributeValue, curveOf, dateSpecs, detailSpecs, display, identitySpecs, keySizeBits, keyTypeName, summarySpecs } from './attributes';
import { CKA, CKO } from './constants';
import { type Handle, nameOf } from './pkcs11-adapter';
import { objectRef, objectUriIn, parseObjectRef, tokenUriPart } from './pkcs11-uri';
import type { AttributeRead, Session } from './session';

const SLICE_MS = 8;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lists every object of the partition, in the token's order. */
export async function listObjects(session: Session, token: TokenSummary): Promise<ObjectSummary[]> {
  const namer = new ObjectNamer(token);
  const out: ObjectSummary[] = [];
  await streamReads(session, (reads) => {
    for (const read of reads) out.push(namer.summarise(read));
  });
  return out;
}

/**
 * Reads every object's listing attributes (ObjectRead), in the token's order, and hands them to
 * `onBatch` in batches of `batchSize` as they are read, keeping none. The HSM worker runs this and
 * posts each batch to the main thread, which names and summarises the objects (ObjectNamer) while
 * the worker reads the next ones: the PKCS#11 calls are the listing's critical path, so nothing else
 * runs between them. Returns how many objects were read.
 * @throws TesseraError for failures that concern the session, login, token or object (Session.read)
 */
export async function streamReads(session: Session, onBatch: (reads: ObjectRead[]) => void, batchSize = 100): Promise<number> {
  const handles = session.findAll();
  let count = 0;
  let batch: ObjectRead[] = [];
  let sliceStart = performance.now();
  for (const handle of handles) {
    batch.push(readObject(session, handle));
    count++;
    if (batch.length === batchSize) {
      onBatch(batch);
      batch = [];
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (batch.length > 0) onBatch(batch);
  return count;
}

/**
 * Names and summarises the reads of one listing, in the token's order: the URI, the digest, the ref
 * (with the twin ordinal, counted across every batch of the listing) and the summary's fields.
 */
export class ObjectNamer {
  private readonly tokenPart: string;
  /** How many objects had each URI and digest so far: the next twin's ordinal. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly token: TokenSummary) {
    this.tokenPart = uriTokenPart(token);
  }

  /** The listing's entry for the next object read. */
  summarise(read: ObjectRead): ObjectSummary {
    const named = identify(this.tokenPart, kindOf(read.objectClass, read.keyType), read);
    const key = `${named.uri};${named.digest}`;
    const twin = this.seen.get(key) ?? 0;
    this.seen.set(key, twin + 1);
    return summarise(this.token, named, twin);
  }
}

/**
 * Every attribute the terminal reads of the one object `ref` names (a ref from the listing, or a
 * plain URI that matches exactly one object).
 * @throws TesseraError INVALID_REQUEST when `ref` is not a ref or URI this terminal writes;
 *   OBJECT_NOT_FOUND when it names another partition, or no object (deleted or changed since
 *   listed), or, for a plain URI, several objects (then it says how many).
 */
export function objectDetails(session: Session, token: TokenSummary, ref: string): ObjectDetails {
  const handle = resolveRef(session, token, ref);
  const { objectClass, keyType } = classify(session, handle);
  const specs = withIdentity(detailSpecs(objectClass, keyType), objectClass, keyType);
  const read = session.read(handle, specs.filter((s) => s.kind !== 'date'), objectClass, keyType);
  readDates(session, handle, objectClass, keyType, read);
  const attributes: AttributeView[] = [];
  for (const s of [...specs.filter((s) => s.kind !== 'date'), ...dateSpecs]) {
    const value = read.values.get(s.type);
    if (value !== undefined) attributes.push({ type: s.type, name: s.name, value: display(s, value, keyType) });
  }
  const nameOfSpec = (type: number): string => [...specs, ...dateSpecs].find((s) => s.type === type)?.name ?? nameOf('CKA', type);
  const withheld = [...read.withheld, ...read.unreadable].map(([type, reason]) => ({ name: nameOfSpec(type), reason }));
  if (objectClass === CKO.SECRET_KEY || objectClass === CKO.PRIVATE_KEY) withheld.push({ name: 'key value', reason: 'key material is never read by the terminal' });
  if (objectClass === CKO.DATA) withheld.push({ name: 'value', reason: 'the contents of data objects are not shown' });
  // The summary exactly as the listing shows it, ref included.
  return { summary: summarise(token, readSummary(session, uriTokenPart(token), handle), parseObjectRef(ref)?.twin ?? 0), attributes, withheld };
}

/** The handle of the one object `ref` names, in this session. */
function resolveRef(session: Session, token: TokenSummary, ref: string): Handle {
  const parsed = parseObjectRef(ref);
  if (!parsed || parsed.serial === undefined || parsed.id === undefined || parsed.object === undefined || parsed.objectClass === undefined) {
    throw new TesseraError('INVALID_REQUEST', 'That is not an object reference this terminal wrote: copy the ref from the listing.', 'expected a pkcs11: URI with serial, object, id and type');
  }
  if (parsed.serial !== token.serial) {
    throw new TesseraError('OBJECT_NOT_FOUND', 'That object belongs to another partition. Choose its partition first.');
  }
  const handles = session.findAll([
    { type: CKA.CLASS, value: parsed.objectClass },
    { type: CKA.LABEL, value: parsed.object },
    { type: CKA.ID, value: parsed.id },
  ]);
  if (parsed.digest === null) {
    if (handles.length > 1) {
      throw new TesseraError('OBJECT_NOT_FOUND', `${handles.length} objects share that address (label, id and type): it does not say which one. Use the object's ref from the listing.`);
    }
  }
  const tokenPart = uriTokenPart(token);
  const matching = parsed.digest === null ? handles : handles.filter((h) => readSummary(session, tokenPart, h).digest === parsed.digest);
  const found = matching[parsed.twin];
  if (!found) throw new TesseraError('OBJECT_NOT_FOUND', 'No object in the partition matches that reference: it was deleted or changed since it was listed. Refresh the list.');
  return found;
}

/** One object as the listing reads it: its class, key type and attributes, before it is named. */
export interface ObjectRead {
  objectClass: number;
  keyType: number | null;
  read: AttributeRead;
}

/** A read object with what names it: its URI and the digest of its public attributes. */
interface IdentifiedRead extends ObjectRead {
  uri: string;
  digest: string;
}

function classify(session: Session, handle: Handle): { objectClass: number; keyType: number | null } {
  const objectClass = session.readOne(handle, A.class, null) as number | null;
  if (objectClass === null) throw new TesseraError('HSM_ERROR', 'The HSM did not say what kind of object this is.', 'CKA_CLASS missing');
  const isKey = objectClass === CKO.PRIVATE_KEY || objectClass === CKO.PUBLIC_KEY || objectClass === CKO.SECRET_KEY;
  const keyType = isKey ? (session.readOne(handle, A.keyType, objectClass) as number | null) : null;
  return { objectClass, keyType };
}

function withIdentity(specs: AttributeSpec[], objectClass: number, keyType: number | null): AttributeSpec[] {
  const extra = identitySpecs(objectClass, keyType).filter((s) => !specs.some((t) => t.type === s.type));
  return extra.length === 0 ? specs : [...specs, ...extra];
}

/** The token part of the partition's object URIs; the token label as its bytes where it has them. */
function uriTokenPart(token: TokenSummary): string {
  return tokenUriPart(token.labelHex === null ? token.label : Buffer.from(token.labelHex, 'hex'), token.serial);
}

/** What the listing reads of each kind of object, and what enters its digest: made once per class and key type. */
interface Kind {
  /** summarySpecs with identitySpecs, frozen (the session checks a frozen template once). */
  specs: readonly AttributeSpec[];
  /** The attribute types of the digest, beside class and key type, in order. */
  digestTypes: readonly number[];
}

const kinds = new Map<number, Map<number | null, Kind>>();

function kindOf(objectClass: number, keyType: number | null): Kind {
  let byKeyType = kinds.get(objectClass);
  if (!byKeyType) {
    byKeyType = new Map();
    kinds.set(objectClass, byKeyType);
  }
  let kind = byKeyType.get(keyType);
  if (!kind) {
    kind = {
      specs: Object.freeze(withIdentity(summarySpecs(objectClass, keyType), objectClass, keyType)),
      digestTypes: Object.freeze([...identityTypes, ...identitySpecs(objectClass, keyType).map((s) => s.type)]),
    };
    byKeyType.set(keyType, kind);
  }
  return kind;
}

/** The listing's attributes of one object: class and key type first, then the rest in one call where the token allows, then the dates. */
function readObject(session: Session, handle: Handle): ObjectRead {
  const { objectClass, keyType } = classify(session, handle);
  const read = session.read(handle, kindOf(objectClass, keyType).specs, objectClass, keyType);
  readDates(session, handle, objectClass, keyType, read);
  return { objectClass, keyType, read };
}

function readSummary(session: Session, tokenPart: string, handle: Handle): IdentifiedRead {
  const read = readObject(session, handle);
  return identify(tokenPart, kindOf(read.objectClass, read.keyType), read);
}

/** Attributes that enter the digest, beside class and key type: what the object is, not how it may be used. */
const identityTypes = [CKA.LABEL, CKA.ID, CKA.TOKEN, CKA.PRIVATE, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.MODULUS_BITS, CKA.VALUE_LEN, CKA.EC_PARAMS, CKA.CHECK_VALUE, CKA.APPLICATION, CKA.CERTIFICATE_TYPE];

/**
 * The object's URI and the digest of its public attributes: SHA-256 (first 8 bytes, hex) over class,
 * key type, and each of `identityTypes` and `identitySpecs` that the token gave, as type-length-value
 * (type: 4 bytes, length: 8 bytes, big-endian; numbers as 8 bytes, booleans as 1 byte).
 * Usage flags and dates are left out, so that a key whose usage changes keeps its ref.
 */
function identify(tokenPart: string, kind: Kind, r: ObjectRead): IdentifiedRead {
  const v = r.read.values;
  // Measured first, then written into one buffer and hashed once: a 10,000-object listing does this 10,000 times.
  let size = r.keyType === null ? 20 : 40;
  for (const type of kind.digestTypes) {
    const value = v.get(type);
    if (value !== undefined) size += 12 + fieldLength(value);
  }
  const tlv = Buffer.allocUnsafe(size);
  let at = writeField(tlv, 0, CKA.CLASS, r.objectClass);
  if (r.keyType !== null) at = writeField(tlv, at, CKA.KEY_TYPE, r.keyType);
  for (const type of kind.digestTypes) {
    const value = v.get(type);
    if (value !== undefined) at = writeField(tlv, at, type, value);
  }
  const label = labelBytes(v);
  const id = (v.get(CKA.ID) as Buffer | undefined) ?? Buffer.alloc(0);
  return { objectClass: r.objectClass, keyType: r.keyType, read: r.read, uri: objectUriIn(tokenPart, { objectClass: r.objectClass, label, id }), digest: hash('sha256', tlv, 'hex').slice(0, 16) };
}

/** A digest field's value length: bytes as they are, text as UTF-8, a boolean as 1 byte, a number as 8. */
function fieldLength(value: AttributeValue): number {
  if (Buffer.isBuffer(value)) return value.length;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  return typeof value === 'boolean' ? 1 : 8;
}

/** One type-length-value field of the digest at `at`; returns the offset after it. */
function writeField(tlv: Buffer, at: number, type: number, value: AttributeValue): number {
  at = tlv.writeUInt32BE(type, at);
  at = writeU64(tlv, fieldLength(value), at);
  if (Buffer.isBuffer(value)) return at + value.copy(tlv, at);
  if (typeof value === 'string') return at + tlv.write(value, at, 'utf8');
  if (typeof value === 'boolean') return tlv.writeUInt8(value ? 1 : 0, at);
  return writeU64(tlv, value, at);
}

/** `n` as 8 bytes big-endian at `at`; returns the offset after it. */
function writeU64(buf: Buffer, n: number, at: number): number {
  // A CK_ULONG of 0xFFFF_FFFF_FFFF_FFFF reads as 2^64 (a double): its low 64 bits, so no token value makes the listing throw.
  if (!Number.isSafeInteger(n) || n < 0) return buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(Math.trunc(n))), at);
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  return buf.writeUInt32BE(n % 0x1_0000_0000, at + 4);
}

function labelBytes(v: Map<number, AttributeValue>): Buffer {
  const label = v.get(CKA.LABEL);
  return Buffer.isBuffer(label) ? label : Buffer.alloc(0);
}

/** Subject, issuer and serial number of a certificate, from its DER value (public); null where it does not parse. */
function certificateNames(v: Map<number, AttributeValue>): { subject: string | null; issuer: string | null; serialNumber: string | null } {
  const der = v.get(CKA.VALUE);
  if (!Buffer.isBuffer(der) || der.length === 0) return { subject: null, issuer: null, serialNumber: null };
  try {
    const cert = new X509Certificate(der);
    const name = (dn: string): string => escapeLabel(dn.split('\n').join(', '));
    return { subject: name(cert.subject), issuer: name(cert.issuer), serialNumber: cert.serialNumber.toUpperCase() };
  } catch {
    const serial = v.get(CKA.SERIAL_NUMBER);
    return { subject: null, issuer: null, serialNumber: Buffer.isBuffer(serial) ? serial.toString('hex').toUpperCase() : null };
  }
}

/** Each date in a call of its own (an empty CK_DATE trips the binding); what fails is recorded with the rest. */
function readDates(session: Session, handle: Handle, objectClass: number, keyType: number | null, read: AttributeRead): void {
  if (objectClass === CKO.DATA) return;
  for (const one of dateTemplates) session.read(handle, one, objectClass, keyType, read);
}

const dateTemplates = dateSpecs.map((s) => Object.freeze([s]));

const classNames: Record<number, ObjectClassName> = {
  [CKO.PRIVATE_KEY]: 'private-key',
  [CKO.PUBLIC_KEY]: 'public-key',
  [CKO.SECRET_KEY]: 'secret-key',
  [CKO.CERTIFICATE]: 'certificate',
  [CKO.DATA]: 'data',
};

/** The listing's field for an attribute, where it has one of its own; other attributes go by their CKA_ name. */
const summaryFields: Record<number, string> = {
  [CKA.CLASS]: 'class',
  [CKA.KEY_TYPE]: 'keyType',
  [CKA.LABEL]: 'label',
  [CKA.ID]: 'id',
  [CKA.TOKEN]: 'token',
  [CKA.PRIVATE]: 'private',
  [CKA.SENSITIVE]: 'sensitive',
  [CKA.EXTRACTABLE]: 'extractable',
  [CKA.NEVER_EXTRACTABLE]: 'neverExtractable',
  [CKA.ALWAYS_SENSITIVE]: 'alwaysSensitive',
  [CKA.LOCAL]: 'local',
  [CKA.MODIFIABLE]: 'modifiable',
  [CKA.COPYABLE]: 'copyable',
  [CKA.DESTROYABLE]: 'destroyable',
  [CKA.START_DATE]: 'startDate',
  [CKA.END_DATE]: 'endDate',
  [CKA.CHECK_VALUE]: 'checkValue',
};

const usageFlags = [A.encrypt, A.decrypt, A.sign, A.signRecover, A.verify, A.verifyRecover, A.wrap, A.unwrap, A.derive];

function summarise(token: TokenSummary, { objectClass, keyType, read, uri, digest }: IdentifiedRead, twin: number): ObjectSummary {
  const v = read.values;
  const bool = (type: number): boolean | null => (typeof v.get(type) === 'boolean' ? (v.get(type) as boolean) : null);
  const text = (type: number): string | null => {
    const value = v.get(type);
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const label = labelBytes(v);
  const id = (v.get(CKA.ID) as Buffer | undefined) ?? Buffer.alloc(0);
  const checkValue = v.get(CKA.CHECK_VALUE);
  const certificate = objectClass === CKO.CERTIFICATE ? certificateNames(v) : { subject: null, issuer: null, serialNumber: null };
  return {
    uri,
    ref: objectRef(uri, digest, twin),
    class: classNames[objectClass] ?? 'other',
    keyType: keyType === null ? null : keyTypeName(keyType),
    size: keySizeBits(keyType, v),
    curve: curveOf(keyType, v),
    label: labelText(label),
    labelHex: toHex(label),
    id: id.toString('hex'),
    token: bool(CKA.TOKEN),
    private: bool(CKA.PRIVATE),
    sensitive: bool(CKA.SENSITIVE),
    extractable: bool(CKA.EXTRACTABLE),
    neverExtractable: bool(CKA.NEVER_EXTRACTABLE),
    alwaysSensitive: bool(CKA.ALWAYS_SENSITIVE),
    local: bool(CKA.LOCAL),
    modifiable: bool(CKA.MODIFIABLE),
    copyable: bool(CKA.COPYABLE),
    destroyable: bool(CKA.DESTROYABLE),
    usage: usageFlags.filter((s) => v.get(s.type) === true).map((s) => s.name),
    startDate: text(CKA.START_DATE),
    endDate: text(CKA.END_DATE),
    checkValue: Buffer.isBuffer(checkValue) && checkValue.length > 0 ? checkValue.toString('hex') : null,
    unreadable: [...read.unreadable].map(([type, reason]) => ({ name: summaryFields[type] ?? nameOf('CKA', type), reason })),
    ...certificate,
  };
}
