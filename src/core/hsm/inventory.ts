// The partition's objects as plain data: the inventory list and one object's full attribute set.
// Listing yields to the event loop every few milliseconds, so a 10,000-object partition never
// freezes the window while it is read.
import type { AttributeView, ObjectClassName, ObjectDetails, ObjectSummary, TokenSummary } from '../../shared/types';
import { TesseraError } from '../errors';
import { A, curveOf, dateSpecs, detailSpecs, display, keySizeBits, keyTypeName, summarySpecs } from './attributes';
import { CKA, CKO } from './constants';
import { type Handle, nameOf } from './pkcs11-adapter';
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
  const read = session.read(first, specs.filter((s) => s.kind !== 'date'), objectClass, keyType);
  readDates(session, first, objectClass, keyType, read);
  const attributes: AttributeView[] = [];
  for (const s of [...specs.filter((s) => s.kind !== 'date'), ...dateSpecs]) {
    const value = read.values.get(s.type);
    if (value !== undefined) attributes.push({ type: s.type, name: s.name, value: display(s, value, keyType) });
  }
  const nameOfSpec = (type: number): string => [...specs, ...dateSpecs].find((s) => s.type === type)?.name ?? nameOf('CKA', type);
  const withheld = [...read.withheld, ...read.unreadable].map(([type, reason]) => ({ name: nameOfSpec(type), reason }));
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
  const read = session.read(handle, summarySpecs(objectClass, keyType), objectClass, keyType);
  readDates(session, handle, objectClass, keyType, read);
  return { objectClass, keyType, read };
}

/** Each date in a call of its own (an empty CK_DATE trips the binding); what fails is recorded with the rest. */
function readDates(session: Session, handle: Handle, objectClass: number, keyType: number | null, read: AttributeRead): void {
  if (objectClass === CKO.DATA) return;
  for (const s of dateSpecs) {
    const one = session.read(handle, [s], objectClass, keyType);
    const value = one.values.get(s.type);
    if (value !== undefined) read.values.set(s.type, value);
    for (const [type, reason] of one.withheld) read.withheld.set(type, reason);
    for (const [type, reason] of one.unreadable) read.unreadable.set(type, reason);
  }
}

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
    size: keySizeBits(keyType, v),
    curve: curveOf(keyType, v),
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
    unreadable: [...read.unreadable].map(([type, reason]) => ({ name: summaryFields[type] ?? nameOf('CKA', type), reason })),
  };
}
