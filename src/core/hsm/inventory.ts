// The partition's objects as plain data: the inventory list and one object's full attribute set.
// Listing yields to the event loop every few milliseconds, so a 10,000-object partition never
// freezes the window while it is read.
import type { AttributeView, ObjectClassName, ObjectDetails, ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import { A, type AttributeValue, dateSpecs, describeCurve, detailSpecs, display, keyTypeName, summarySpecs } from './attributes';
import { CKA, CKK, CKO } from './constants';
import type { Handle } from './pkcs11-adapter';
import { objectUri, parseObjectUri } from './pkcs11-uri';
import type { AttributeRead, Session } from './session';

const SLICE_MS = 8;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lists every object; `onBatch` receives them in batches of `batchSize` as they are read. */
export async function listObjects(session: Session, token: TokenSummary, onBatch?: (objects: ObjectSummary[]) => void, batchSize = 500): Promise<ObjectSummary[]> {
  const handles = session.findAll();
  const out: ObjectSummary[] = [];
  let batch: ObjectSummary[] = [];
  let sliceStart = performance.now();
  for (const handle of handles) {
    const summary = summarise(token, readSummary(session, handle));
    out.push(summary);
    batch.push(summary);
    if (onBatch && batch.length === batchSize) {
      onBatch(batch);
      batch = [];
    }
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (onBatch && batch.length > 0) onBatch(batch);
  return out;
}

export function objectDetails(session: Session, token: TokenSummary, uri: string): ObjectDetails {
  const parsed = parseObjectUri(uri);
  if (!parsed || parsed.serial === undefined || parsed.id === undefined || parsed.object === undefined || parsed.objectClass === undefined) {
    throw new TesseraError('INVALID_REQUEST', 'That is not an object address this terminal wrote.', 'expected pkcs11: URI with serial, object, id and type');
  }
  if (parsed.serial !== token.serial) {
    throw new TesseraError('OBJECT_NOT_FOUND', 'That object belongs to another partition. Choose its partition first.');
  }
  const handles = session.findAll([
    { type: CKA.CLASS, value: parsed.objectClass },
    { type: CKA.LABEL, value: parsed.object },
    { type: CKA.ID, value: parsed.id },
  ]);
  const first = handles[0];
  if (!first) throw new TesseraError('OBJECT_NOT_FOUND', 'That object is no longer in the partition. Refresh the list.');
  const { objectClass, keyType } = classify(session, first);
  const specs = detailSpecs(objectClass, keyType);
  const read = session.read(first, specs.filter((s) => s.kind !== 'date'), objectClass);
  readDates(session, first, objectClass, read);
  const attributes: AttributeView[] = [];
  for (const s of [...specs.filter((s) => s.kind !== 'date'), ...dateSpecs]) {
    const value = read.values.get(s.type);
    if (value !== undefined) attributes.push({ type: s.type, name: s.name, value: display(s, value) });
  }
  const withheld = [...read.withheld].map(([type, reason]) => ({ name: specs.find((s) => s.type === type)?.name ?? `0x${type.toString(16)}`, reason }));
  if (objectClass === CKO.SECRET_KEY || objectClass === CKO.PRIVATE_KEY) withheld.push({ name: 'key value', reason: 'key material is never read by the terminal' });
  if (objectClass === CKO.DATA) withheld.push({ name: 'value', reason: 'the contents of data objects are not shown' });
  return { summary: summarise(token, { objectClass, keyType, read }), attributes, withheld, sameUri: handles.length - 1 };
}

interface SummaryRead {
  objectClass: number;
  keyType: number | null;
  read: AttributeRead;
}

function classify(session: Session, handle: Handle): { objectClass: number; keyType: number | null } {
  const objectClass = session.readOne(handle, A.class, null) as number | null;
  if (objectClass === null) throw new TesseraError('HSM_ERROR', 'The HSM did not say what kind of object this is.', 'CKA_CLASS missing');
  const isKey = objectClass === CKO.PRIVATE_KEY || objectClass === CKO.PUBLIC_KEY || objectClass === CKO.SECRET_KEY;
  const keyType = isKey ? (session.readOne(handle, A.keyType, objectClass) as number | null) : null;
  return { objectClass, keyType };
}

function readSummary(session: Session, handle: Handle): SummaryRead {
  const { objectClass, keyType } = classify(session, handle);
  const read = session.read(handle, summarySpecs(objectClass, keyType), objectClass);
  readDates(session, handle, objectClass, read);
  return { objectClass, keyType, read };
}

function readDates(session: Session, handle: Handle, objectClass: number, read: AttributeRead): void {
  if (objectClass === CKO.DATA) return;
  for (const s of dateSpecs) {
    const one = session.read(handle, [s], objectClass);
    const value = one.values.get(s.type);
    if (value !== undefined) read.values.set(s.type, value);
  }
}

const classNames: Record<number, ObjectClassName> = {
  [CKO.PRIVATE_KEY]: 'private-key',
  [CKO.PUBLIC_KEY]: 'public-key',
  [CKO.SECRET_KEY]: 'secret-key',
  [CKO.CERTIFICATE]: 'certificate',
  [CKO.DATA]: 'data',
};

const usageFlags = [A.encrypt, A.decrypt, A.sign, A.signRecover, A.verify, A.verifyRecover, A.wrap, A.unwrap, A.derive];

function summarise(token: TokenSummary, { objectClass, keyType, read }: SummaryRead): ObjectSummary {
  const v = read.values;
  const bool = (type: number): boolean | null => (typeof v.get(type) === 'boolean' ? (v.get(type) as boolean) : null);
  const text = (type: number): string | null => {
    const value = v.get(type);
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const label = (v.get(CKA.LABEL) as string | undefined) ?? '';
  const id = (v.get(CKA.ID) as Buffer | undefined) ?? Buffer.alloc(0);
  const checkValue = v.get(CKA.CHECK_VALUE);
  return {
    uri: objectUri({ tokenLabel: token.label, tokenSerial: token.serial, objectClass, label, id }),
    class: classNames[objectClass] ?? 'other',
    keyType: keyType === null ? null : keyTypeName(keyType),
    size: keySize(keyType, v),
    label,
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
  };
}

function keySize(keyType: number | null, v: Map<number, AttributeValue>): number | null {
  if (keyType === CKK.RSA) {
    const bits = v.get(CKA.MODULUS_BITS);
    if (typeof bits === 'number') return bits;
    const modulus = v.get(CKA.MODULUS);
    return Buffer.isBuffer(modulus) ? significantBits(modulus) : null;
  }
  if (keyType === CKK.EC) {
    const params = v.get(CKA.EC_PARAMS);
    return Buffer.isBuffer(params) ? (describeCurve(params)?.bits || null) : null;
  }
  const len = v.get(CKA.VALUE_LEN);
  return typeof len === 'number' ? len * 8 : null;
}

function significantBits(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
}
