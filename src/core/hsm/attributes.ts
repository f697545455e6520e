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

// Frozen: a session checks a (frozen) template for key material once, so its specs must not change after.
const spec = (type: number, name: string, kind: AttributeKind, large = false): AttributeSpec => Object.freeze({ type, name, kind, large });

export const A = Object.freeze({
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
  ecParams: spec(CKA.EC_PARAMS, 'curve', 'ecParams'),
  ecPoint: spec(CKA.EC_POINT, 'EC point', 'bytes', true),
  prime: spec(CKA.PRIME, 'prime (p)', 'bytes', true),
  subprime: spec(CKA.SUBPRIME, 'subprime (q)', 'bytes', true),
  base: spec(CKA.BASE, 'base (g)', 'bytes', true),
  certificateType: spec(CKA.CERTIFICATE_TYPE, 'certificate type', 'certificateType'),
  certificateCategory: spec(CKA.CERTIFICATE_CATEGORY, 'certificate category', 'certificateCategory'),
  issuer: spec(CKA.ISSUER, 'issuer', 'bytes', true),
  serialNumber: spec(CKA.SERIAL_NUMBER, 'serial number', 'bytes'),
  certificateValue: spec(CKA.VALUE, 'certificate (DER)', 'bytes', true),
  application: spec(CKA.APPLICATION, 'application', 'utf8'),
  objectId: spec(CKA.OBJECT_ID, 'object identifier', 'bytes'),
} as const satisfies Record<string, AttributeSpec>);

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
      return [...common, ...keyCommon, A.encrypt, A.decrypt, A.sign, A.verify, A.wrap, A.unwrap, ...protection, A.trusted, A.checkValue, ...secretSizeSpecs(keyType)];
    case CKO.CERTIFICATE:
      return [...common, A.id, A.certificateType, A.trusted, A.certificateCategory, A.checkValue];
    case CKO.DATA:
      return [...common, A.application];
    default:
      return [...common];
  }
}

/** Curve-based key types: CKA_EC_PARAMS names the curve (PKCS#11 v3.0 sections 2.3.3, 2.3.6, 2.3.7). */
export function isCurveKeyType(keyType: number | null): boolean {
  return keyType === CKK.EC || keyType === CKK.EC_EDWARDS || keyType === CKK.EC_MONTGOMERY;
}

/** Where a key pair's size lives: the modulus (RSA), the curve (EC family), the prime p (DSA, DH). */
function sizeSpecs(keyType: number | null, isPublic: boolean): AttributeSpec[] {
  if (keyType === CKK.RSA) return isPublic ? [A.modulusBits] : [A.modulus];
  if (isCurveKeyType(keyType)) return [A.ecParams];
  if (keyType === CKK.DSA || keyType === CKK.DH) return [A.prime];
  return [];
}

/** The DES family has a fixed size and no CKA_VALUE_LEN (PKCS#11 v2.40 section 2.22); other secret keys give it. */
function secretSizeSpecs(keyType: number | null): AttributeSpec[] {
  return keyType !== null && desBits[keyType] !== undefined ? [] : [A.valueLen];
}

/**
 * Effective key bits of the DES family, as the case README and NIST SP 800-67 count them: the
 * parity bit of each byte is not key (DES 64 stored bits, 56 key bits; two-key 3DES 112; three-key 168).
 */
const desBits: Record<number, number> = { [CKK.DES]: 56, [CKK.DES2]: 112, [CKK.DES3]: 168 };

/** Everything the details view shows: the summary plus the large public values. */
export function detailSpecs(objectClass: number, keyType: number | null): AttributeSpec[] {
  const extra: AttributeSpec[] = [];
  if (objectClass === CKO.PRIVATE_KEY || objectClass === CKO.PUBLIC_KEY) {
    extra.push(A.subject, A.alwaysAuthenticate);
    if (keyType === CKK.RSA) extra.push(A.modulus, A.modulusBits, A.publicExponent);
    if (isCurveKeyType(keyType) && objectClass === CKO.PUBLIC_KEY) extra.push(A.ecPoint);
    if (keyType === CKK.DSA) extra.push(A.prime, A.subprime, A.base);
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

/**
 * A CK_DATE (PKCS#11 v2.40 section 3.3: 8 ASCII digits YYYYMMDD, year 1900-9999) as YYYY-MM-DD; ''
 * when empty (no date set); anything else, e.g. 8 zero bytes or 31 February, as `not a date: "..."`
 * with the bytes escaped, so that it is never mistaken for a date.
 */
export function decodeDate(raw: Buffer): string {
  if (raw.length === 0) return '';
  const text = raw.toString('latin1');
  if (/^[0-9]{8}$/.test(text)) {
    const [y, m, d] = [Number(text.slice(0, 4)), Number(text.slice(4, 6)), Number(text.slice(6, 8))];
    const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    if (y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= days) return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
  }
  return `not a date: "${escapeBytes(raw)}"`;
}

/** Printable ASCII as it is; every other byte, the backslash and the double quote as \xNN. */
export function escapeBytes(raw: Buffer): string {
  let out = '';
  for (const byte of raw) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x22 ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
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
      return decodeDate(raw);
    case 'bytes':
    case 'label':
    case 'ecParams':
      // The binding gives each value a buffer of its own (napi_create_buffer_copy), exactly its
      // size: kept as it is, it crosses from the HSM worker without a copy of anything else.
      return raw;
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

/** Text for the details view; `keyType` tells Edwards from Montgomery curves given by name. */
export function display(s: AttributeSpec, value: AttributeValue, keyType: number | null = null): string {
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
      return describeCurve(value as Buffer, keyType)?.name ?? (value as Buffer).toString('hex');
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

const ED25519 = { name: 'Ed25519', bits: 255 };
const ED448 = { name: 'Ed448', bits: 448 };
const X25519 = { name: 'X25519', bits: 255 };
const X448 = { name: 'X448', bits: 448 };

const curves: Record<string, { name: string; bits: number }> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.7': { name: 'brainpoolP256r1', bits: 256 },
  '1.3.36.3.3.2.8.1.1.11': { name: 'brainpoolP384r1', bits: 384 },
  '1.3.36.3.3.2.8.1.1.13': { name: 'brainpoolP512r1', bits: 512 },
  // RFC 8410; bits as RFC 7748/8032 count the field: 2^255-19 and 2^448-2^224-1.
  '1.3.101.112': ED25519,
  '1.3.101.113': ED448,
  '1.3.101.110': X25519,
  '1.3.101.111': X448,
  // GnuPG's OIDs from before RFC 8410, still on some tokens
  '1.3.6.1.4.1.11591.15.1': ED25519,
  '1.3.6.1.4.1.3029.1.5.1': X25519,
};

/** PrintableString curve names PKCS#11 v3.0 allows in CKA_EC_PARAMS (sections 2.3.6, 2.3.7), lower-cased. */
const curveNames: Record<string, { name: string; bits: number }> = {
  edwards25519: ED25519,
  edwards448: ED448,
  ed25519: ED25519,
  ed448: ED448,
  curve25519: X25519,
  curve448: X448,
  x25519: X25519,
  x448: X448,
};

/**
 * Names the curve in a DER-encoded CKA_EC_PARAMS: a named-curve OID (tag 0x06, RFC 5480) or a
 * PrintableString curve name (tag 0x13, PKCS#11 v3.0: "edwards25519", "curve448", ...). Bits are the
 * curve's size (P-521: 521, Ed25519: 255). For an Edwards or Montgomery key (`keyType`) the family
 * follows the key type, since tokens write "curve25519" for Ed25519 keys too. Null for any other
 * encoding (explicit parameters); an unknown OID or name is returned as such with 0 bits.
 */
export function describeCurve(der: Buffer, keyType: number | null = null): { name: string; bits: number } | null {
  // Partitions hold thousands of keys on a handful of curves: each (key type, CKA_EC_PARAMS) is described once.
  const memoKey = `${keyType}:${der.toString('latin1')}`;
  const known = describedCurves.get(memoKey);
  if (known !== undefined) return known;
  const described = describeCurveOnce(der, keyType);
  if (describedCurves.size >= 256) describedCurves.clear();
  describedCurves.set(memoKey, described);
  return described;
}

const describedCurves = new Map<string, { name: string; bits: number } | null>();

function describeCurveOnce(der: Buffer, keyType: number | null): { name: string; bits: number } | null {
  if (der.length < 3 || der[1] !== der.length - 2) return null;
  let curve: { name: string; bits: number };
  if (der[0] === 0x06) {
    const oid = decodeOid(der.subarray(2));
    curve = curves[oid] ?? { name: `curve ${oid}`, bits: 0 };
  } else if (der[0] === 0x13) {
    const text = der.subarray(2).toString('latin1');
    curve = curveNames[text.toLowerCase()] ?? { name: `curve "${escapeBytes(der.subarray(2))}"`, bits: 0 };
  } else {
    return null;
  }
  if (keyType === CKK.EC_EDWARDS && (curve === X25519 || curve === X448)) return curve === X25519 ? ED25519 : ED448;
  if (keyType === CKK.EC_MONTGOMERY && (curve === ED25519 || curve === ED448)) return curve === ED25519 ? X25519 : X448;
  return curve;
}

/**
 * A key's size in bits, by key type, from the attributes the inventory reads: RSA from
 * CKA_MODULUS_BITS or the modulus; EC, Edwards and Montgomery keys from the curve; DSA and DH from
 * the prime p; the DES family by type (56/112/168 effective bits); other secret keys (AES, generic
 * secret, HMAC) from CKA_VALUE_LEN (bytes). Null when the token gave nothing to tell it by.
 */
export function keySizeBits(keyType: number | null, values: ReadonlyMap<number, AttributeValue>): number | null {
  if (keyType === CKK.RSA) {
    const bits = values.get(CKA.MODULUS_BITS);
    if (typeof bits === 'number') return bits;
    const modulus = values.get(CKA.MODULUS);
    return Buffer.isBuffer(modulus) ? significantBits(modulus) || null : null;
  }
  if (isCurveKeyType(keyType)) {
    const params = values.get(CKA.EC_PARAMS);
    return Buffer.isBuffer(params) ? describeCurve(params, keyType)?.bits || null : null;
  }
  if (keyType === CKK.DSA || keyType === CKK.DH) {
    const prime = values.get(CKA.PRIME);
    return Buffer.isBuffer(prime) ? significantBits(prime) || null : null;
  }
  if (keyType !== null && desBits[keyType] !== undefined) return desBits[keyType] as number;
  const len = values.get(CKA.VALUE_LEN);
  return typeof len === 'number' ? len * 8 : null;
}

/** The curve's name for EC, Edwards and Montgomery keys (e.g. "P-256", "Ed448"); null for other keys or unnamed curves. */
export function curveOf(keyType: number | null, values: ReadonlyMap<number, AttributeValue>): string | null {
  if (!isCurveKeyType(keyType)) return null;
  const params = values.get(CKA.EC_PARAMS);
  return Buffer.isBuffer(params) ? (describeCurve(params, keyType)?.name ?? null) : null;
}

function significantBits(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
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
