// The partition's backup-signing key: an EC P-256 key pair generated in the partition, private
// half sensitive and never extractable. It signs every backup and manifest; its public half (and
// fingerprint) is bound into the backup card set, so a restore accepts only backups it signed.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { TesseraError } from '../errors';
import { CKA, CKK, CKO } from '../hsm/constants';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';

export const SIGNING_LABEL = 'Tessera backup-signing key';
const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const CKM_EC_KEY_PAIR_GEN = 0x1040;
export const CKM_ECDSA = 0x1041;

export function createSigningKey(session: Session, id: string): Buffer {
  const common = [
    { type: CKA.TOKEN, value: true },
    { type: CKA.LABEL, value: Buffer.from(SIGNING_LABEL) },
    { type: CKA.ID, value: Buffer.from(id, 'hex') },
  ];
  const { publicKey } = session.generateKeyPair(
    CKM_EC_KEY_PAIR_GEN,
    [...common, { type: CKA.PRIVATE, value: false }, { type: CKA.VERIFY, value: true }, { type: CKA.EC_PARAMS, value: P256 }],
    [...common, { type: CKA.PRIVATE, value: true }, { type: CKA.SENSITIVE, value: true }, { type: CKA.EXTRACTABLE, value: false }, { type: CKA.SIGN, value: true }, { type: CKA.DERIVE, value: false }],
  );
  const point = session.readRaw(publicKey, [CKA.EC_POINT], CKO.PUBLIC_KEY).get(CKA.EC_POINT);
  if (!point) throw new TesseraError('HSM_ERROR', 'The partition did not give the new signing key\'s public half.');
  return spkiFromEc(P256, point);
}

/** The private half, by its id; null when the partition does not hold it. */
export function findSigningKey(session: Session, id: string): Handle | null {
  return session.findAll([{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }, { type: CKA.KEY_TYPE, value: CKK.EC }, { type: CKA.ID, value: Buffer.from(id, 'hex') }, { type: CKA.LABEL, value: SIGNING_LABEL }])[0] ?? null;
}

/** Signing keys a creation interrupted before it completed left behind (both halves). */
export function signingKeyHandles(session: Session): { id: string; handle: Handle }[] {
  return session.findAll([{ type: CKA.LABEL, value: SIGNING_LABEL }]).map((handle) => ({ handle, id: session.readRaw(handle, [CKA.ID], CKO.PUBLIC_KEY).get(CKA.ID)?.toString('hex') ?? '' }));
}

/** ECDSA P-256 over SHA-256 of `data`: the HSM signs the digest; the signature is r || s. */
export function signData(session: Session, key: Handle, data: Buffer | ((hash: ReturnType<typeof createHash>) => void)): Buffer {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(data)) hash.update(data);
  else data(hash);
  return session.sign(CKM_ECDSA, key, hash.digest());
}

export function verifyData(spki: Buffer, data: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', data, { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** SubjectPublicKeyInfo for an EC public key from CKA_EC_PARAMS and CKA_EC_POINT (a DER OCTET STRING). */
export function spkiFromEc(params: Buffer, ecPoint: Buffer): Buffer {
  const point = unwrapOctetString(ecPoint);
  const algorithm = der(0x30, Buffer.concat([Buffer.from('06072a8648ce3d0201', 'hex'), params]));
  return der(0x30, Buffer.concat([algorithm, der(0x03, Buffer.concat([Buffer.from([0]), point]))]));
}

function unwrapOctetString(value: Buffer): Buffer {
  if (value[0] !== 0x04) return value;
  const first = value[1] ?? 0;
  const [length, start] = first < 0x80 ? [first, 2] : first === 0x81 ? [value[2] ?? 0, 3] : [-1, 0];
  // An uncompressed point also starts with 04: only a well-formed wrapper is taken off.
  return start > 0 && start + length === value.length ? value.subarray(start) : value;
}

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
