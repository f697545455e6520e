// The attribute registry: every CKA_* the terminal reads, its kind, how it is decoded and shown,
// and which ones are never read because they hold key material.
import { labelText } from '../../shared/label-text';
import { CKA, CKK, CKO } from './constants';
import { nameOf } from './pkcs11-adapter';

export type AttributeKind =
  | 'bool'
  | 'ulong'
  | 'bytes'
  | 'utf8'
  | 'label'
  | 'date'
  | 'objectClass'
  | 'keyType'
  | 'mechanism'
  | 'ecParams'
  | 'certificateType'
  | 'certificateCategory';

export interface AttributeSpec {
  type: number;
  /** Short officer-readable name, e.g. "extractable". */
  name: string;
  kind: AttributeKind;
  /** Long byte strings are summarised in lists and shown in full only in details. */
  large?: boolean;
}

export type AttributeValue = boolean | number | string | Buffer;

const spec = (type: number, name: string, kind: AttributeKind, large = false): AttributeSpec => ({ type, name, kind, large });

export const A = {
  class: spec(CKA.CLASS, 'class', 'objectClass'),
  token: spec(CKA.TOKEN, 'token', 'bool'),
  private: spec(CKA.PRIVATE, 'private', 'bool'),
  // Kept as bytes (PKCS#11 v2.40 §4.4: CK_UTF8CHAR, which tokens do not check); shown by labelText.
  label: spec(CKA.LABEL, 'label', 'label'),
  modifiable: spec(CKA.MODIFIABLE, 'modifiable', 'bool'),
  copyable: spec(CKA.COPYABLE, 'copyable', 'bool'),
  destroyable: spec(CKA.DESTROYABLE, 'destroyable', 'bool'),
  keyType: spec(CKA.KEY_TYPE, 'key type', 'keyType'),
  id: spec(CKA.ID, 'id', 'bytes'),
  startDate: spec(CKA.START_DATE, 'start date', 'date'),
  endDate: spec(CKA.END_DATE, 'end date', 'date'),
  derive: spec(CKA.DERIVE, 'derive', 'bool'),
  local: spec(CKA.LOCAL, 'local', 'bool'),
  keyGenMechanism: spec(CKA.KEY_GEN_MECHANISM, 'key generation mechanism', 'mechanism'),
  subject: spec(CKA.SUBJECT, 'subject', 'bytes', true),
  sensitive: spec(CKA.SENSITIVE, 'sensitive', 'bool'),
  encrypt: spec(CKA.ENCRYPT, 'encrypt', 'bool'),
  decrypt: spec(CKA.DECRYPT, 'decrypt', 'bool'),
  sign: spec(CKA.SIGN, 'sign', 'bool'),
  signRecover: spec(CKA.SIGN_RECOVER, 'sign-recover', 'bool'),
  verify: spec(CKA.VERIFY, 'verify', 'bool'),
  verifyRecover: spec(CKA.VERIFY_RECOVER, 'verify-recover', 'bool'),
  wrap: spec(CKA.WRAP, 'wrap', 'bool'),
  unwrap: spec(CKA.UNWRAP, 'unwrap', 'bool'),
  extractable: spec(CKA.EXTRACTABLE, 'extractable', 'bool'),
  alwaysSensitive: spec(CKA.ALWAYS_SENSITIVE, 'always sensitive', 'bool'),
  neverExtractable: spec(CKA.NEVER_EXTRACTABLE, 'never extractable', 'bool'),
  wrapWithTrusted: spec(CKA.WRAP_WITH_TRUSTED, 'wrap with trusted only', 'bool'),
  alwaysAuthenticate: spec(CKA.ALWAYS_AUTHENTICATE, 'always authenticate', 'bool'),
  trusted: spec(CKA.TRUSTED, 'trusted', 'bool'),
  checkValue: spec(CKA.CHECK_VALUE, 'check value', 'bytes'),
  valueLen: spec(CKA.VALUE_LEN, 'value length', 'ulong'),
  modulus: spec(CKA.MODULUS, 'modulus', 'bytes', true),
  modulusBits: spec(CKA.MODULUS_BITS, 'modulus bits', 'ulong'),
  publicExponent: spec(CKA.PUBLIC_EXPONENT, 'public exponent', 'bytes'),
  prime: spec(CKA.PRIME, 'prime', 'bytes', true),
  ecParams: spec(CKA.EC_PARAMS, 'curve', 'ecParams'),
  ecPoint: spec(CKA.EC_POINT, 'EC point', 'bytes', true),
  certificateType: spec(CKA.CERTIFICATE_TYPE, 'certificate type', 'certificateType'),
  certificateCategory: spec(CKA.CERTIFICATE_CATEGORY, 'certificate category', 'certificateCategory'),
  issuer: spec(CKA.ISSUER, 'issuer', 'bytes', true),
  serialNumber: spec(CKA.SERIAL_NUMBER, 'serial number', 'bytes'),
  certificateValue: spec(CKA.VALUE, 'certificate (DER)', 'bytes', true),
  application: spec(CKA.APPLICATION, 'application', 'utf8'),
  objectId: spec(CKA.OBJECT_ID, 'object identifier', 'bytes'),
} as const satisfies Record<string, AttributeSpec>;

/**
 * Attributes that hold key material or secret data. The terminal never asks the HSM for them,
 * even where the token would answer (a non-sensitive key), so they cannot reach the screen.
 * CKA_VALUE is secret for keys and data objects; for a certificate it is the public certificate.
 */
const keyMaterial: ReadonlySet<number> = new Set([
  CKA.PRIVATE_EXPONENT,
  CKA.PRIME_1,
  CKA.PRIME_2,
  CKA.EXPONENT_1,
  CKA.EXPONENT_2,
  CKA.COEFFICIENT,
]);

export function isNeverRead(objectClass: number | null, type: number): boolean {
  if (type === CKA.VALUE) return objectClass !== CKO.CERTIFICATE;
  return keyMaterial.has(type);
}

const common = [A.class, A.token, A.private, A.label, A.modifiable, A.copyable, A.destroyable];
const keyCommon = [A.keyType, A.id, A.derive, A.local, A.keyGenMechanism];
const usageOfPrivate = [A.decrypt, A.sign, A.signRecover, A.unwrap];
const usageOfPublic = [A.encrypt, A.verify, A.verifyRecover, A.wrap];
const protection = [A.sensitive, A.extractable, A.alwaysSensitive, A.neverExtractable, A.wrapWithTrusted];

/** What the inventory reads for one object of a class (and key type). Large values are left out. */
export function summarySpecs(objectClass: number, keyType: number | null): AttributeSpec[] {
  switch (objectClass) {
    case CKO.PRIVATE_KEY:
      return [...common, ...keyCommon, ...usageOfPrivate, ...protection, ...sizeSpecs(keyType, false)];
    case CKO.PUBLIC_KEY:
      return [...common, ...keyCommon, ...usageOfPublic, A.trusted, ...sizeSpecs(keyType, true)];
    case CKO.SECRET_KEY:
      // Secret keys have no sign-recover / verify-recover attributes (PKCS#11 4.7).
      return [...common, ...keyCommon, A.encrypt, A.decrypt, A.sign, A.verify, A.wrap, A.unwrap, ...protection, A.trusted, A.checkValue, A.valueLen];
    case CKO.CERTIFICATE:
      return [...common, A.id, A.certificateType, A.trusted, A.certificateCategory, A.checkValue];
    case CKO.DATA:
      return [...common, A.application];
    default:
      return [...common];
  }
}

function sizeSpecs(keyType: number | null, isPublic: boolean): AttributeSpec[] {
  if (keyType === CKK.RSA) return isPublic ? [A.modulusBits] : [A.modulus];
  if (keyType === CKK.EC) return [A.ecParams];
  return [];
}

/** Everything the details view shows: the summary plus the large public values. */
export function detailSpecs(objectClass: number, keyType: number | null): AttributeSpec[] {
  const extra: AttributeSpec[] = [];
  if (objectClass === CKO.PRIVATE_KEY || objectClass === CKO.PUBLIC_KEY) {
    extra.push(A.subject, A.alwaysAuthenticate);
    if (keyType === CKK.RSA) extra.push(A.modulus, A.modulusBits, A.publicExponent);
    if (keyType === CKK.EC && objectClass === CKO.PUBLIC_KEY) extra.push(A.ecPoint);
  }
  if (objectClass === CKO.CERTIFICATE) extra.push(A.subject, A.issuer, A.serialNumber, A.certificateValue);
  if (objectClass === CKO.DATA) extra.push(A.objectId);
  const all = [...summarySpecs(objectClass, keyType), ...extra];
  return all.filter((s, i) => all.findIndex((t) => t.type === s.type) === i);
}

/**
 * The public attributes that tell objects apart when label, id and class are shared (the ref's
 * digest): the values that make a key or certificate what it is, never key material. RSA keys by
 * modulus and public exponent (private keys carry both, PKCS#11 v2.40 §2.1.3), EC public keys by
 * CKA_EC_POINT, DSA/DH by their public prime, certificates by their (public) DER value, subject,
 * issuer and serial number; secret keys only by size and check value.
 */
export function identitySpecs(objectClass: number, keyType: number | null): AttributeSpec[] {
  if (objectClass === CKO.CERTIFICATE) return [A.subject, A.issuer, A.serialNumber, A.certificateValue];
  if (objectClass !== CKO.PRIVATE_KEY && objectClass !== CKO.PUBLIC_KEY) return [];
  if (keyType === CKK.RSA) return [A.modulus, A.publicExponent];
  if (keyType === CKK.EC && objectClass === CKO.PUBLIC_KEY) return [A.ecPoint];
  if (keyType === CKK.DSA || keyType === CKK.DH) return [A.prime];
  return [];
}

/** Dates go through their own call: an empty CK_DATE (legal, and SoftHSM's default) trips the binding. */
export const dateSpecs = [A.startDate, A.endDate];

export function readUlong(buf: Buffer): number {
  if (buf.length === 8) return Number(buf.readBigUInt64LE(0));
  if (buf.length === 4) return buf.readUInt32LE(0);
  throw new RangeError(`CK_ULONG of ${buf.length} bytes`);
}

export function decode(s: AttributeSpec, raw: Buffer): AttributeValue {
  switch (s.kind) {
    case 'bool':
      return raw.length > 0 && raw[0] !== 0;
    case 'ulong':
    case 'objectClass':
    case 'keyType':
    case 'mechanism':
    case 'certificateType':
    case 'certificateCategory':
      return readUlong(raw);
    case 'utf8':
      return raw.toString('utf8');
    case 'date':
      return raw.length === 8 ? `${raw.subarray(0, 4)}-${raw.subarray(4, 6)}-${raw.subarray(6, 8)}` : '';
    case 'bytes':
    case 'label':
    case 'ecParams':
      return Buffer.from(raw);
  }
}

const classNames: Record<number, string> = {
  [CKO.DATA]: 'data',
  [CKO.CERTIFICATE]: 'certificate',
  [CKO.PUBLIC_KEY]: 'public key',
  [CKO.PRIVATE_KEY]: 'private key',
  [CKO.SECRET_KEY]: 'secret key',
};

const keyTypeNames: Record<number, string> = {
  [CKK.RSA]: 'RSA',
  [CKK.DSA]: 'DSA',
  [CKK.DH]: 'DH',
  [CKK.EC]: 'EC',
  [CKK.GENERIC_SECRET]: 'generic secret',
  [CKK.DES3]: '3DES',
  [CKK.AES]: 'AES',
};

export function keyTypeName(value: number): string {
  return keyTypeNames[value] ?? nameOf('CKK', value).replace(/^CKK_/, '');
}

/** Text for the details view. */
export function display(s: AttributeSpec, value: AttributeValue): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  switch (s.kind) {
    case 'objectClass':
      return classNames[value as number] ?? nameOf('CKO', value as number);
    case 'keyType':
      return keyTypeName(value as number);
    case 'mechanism':
      return nameOf('CKM', value as number);
    case 'certificateType':
      return ({ 0: 'X.509', 1: 'X.509 attribute', 2: 'WTLS' } as Record<number, string>)[value as number] ?? String(value);
    case 'certificateCategory':
      return ({ 0: 'unspecified', 1: 'token user', 2: 'authority', 3: 'other entity' } as Record<number, string>)[value as number] ?? String(value);
    case 'ecParams':
      return describeCurve(value as Buffer)?.name ?? (value as Buffer).toString('hex');
    case 'date':
      return (value as string) || 'not set';
    case 'label':
      return labelText(value as Buffer);
    case 'utf8':
    case 'ulong':
      return String(value);
    case 'bytes':
    case 'bool':
      return Buffer.isBuffer(value) ? value.toString('hex') : String(value);
  }
}

const curves: Record<string, { name: string; bits: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.7': { name: 'brainpoolP256r1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.11': { name: 'brainpoolP384r1', bits: 384 },
  '1.3.36.3.3.2.8.1.1.13': { name: 'brainpoolP512r1', bits: 512 },
  '1.3.101.112': { name: 'Ed25519', bits: 256 },
  '1.3.101.113': { name: 'Ed448', bits: 448 },
  '1.3.101.110': { name: 'X25519', bits: 256 },
  '1.3.101.111': { name: 'X448', bits: 448 },
};

/** Names the curve in a DER-encoded CKA_EC_PARAMS (a named-curve OID). */
export function describeCurve(der: Buffer): { name: string; bits: number } | null {
  if (der.length < 3 || der[0] !== 0x06 || der[1] !== der.length - 2) return null;
  const oid = decodeOid(der.subarray(2));
  return curves[oid] ?? { name: `curve ${oid}`, bits: 0 };
}

export function decodeOid(body: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of body) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}
