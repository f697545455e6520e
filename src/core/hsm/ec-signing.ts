// EC P-256 signing keys that live in a partition: generated there (private half sensitive, never
// extractable), used through C_Sign with CKM_ECDSA over a SHA-256 digest, and checked here with
// node:crypto from the public half as a SubjectPublicKeyInfo. The backup-signing key and the audit
// key are both made this way; each owner names and finds its own key.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { TesseraError } from '../errors';
import { CKA, CKO } from './constants';
import type { Handle } from './pkcs11-adapter';
import type { Session } from './session';

/** The DER OID of the P-256 curve, as CKA_EC_PARAMS carries it. */
export const P256 = Buffer.from('06082a8648ce3d030107', 'hex');
const CKM_EC_KEY_PAIR_GEN = 0x1040;
export const CKM_ECDSA = 0x1041;

/**
 * Generates a P-256 key pair in the partition as token objects labelled `label` with CKA_ID `idHex`:
 * the public half public and verify-only, the private half private, sensitive, never extractable,
 * sign-only. Returns the public half as DER SubjectPublicKeyInfo.
 * @throws TesseraError HSM_ERROR when the partition refuses or does not give the public point.
 */
export function generateP256SigningKey(session: Session, label: string, idHex: string): Buffer {
  const common = [
    { type: CKA.TOKEN, value: true },
    { type: CKA.LABEL, value: Buffer.from(label) },
    { type: CKA.ID, value: Buffer.from(idHex, 'hex') },
  ];
  const { publicKey } = session.generateKeyPair(
    CKM_EC_KEY_PAIR_GEN,
    [...common, { type: CKA.PRIVATE, value: false }, { type: CKA.VERIFY, value: true }, { type: CKA.EC_PARAMS, value: P256 }],
    [...common, { type: CKA.PRIVATE, value: true }, { type: CKA.SENSITIVE, value: true }, { type: CKA.EXTRACTABLE, value: false }, { type: CKA.SIGN, value: true }, { type: CKA.DECRYPT, value: false }, { type: CKA.UNWRAP, value: false }, { type: CKA.DERIVE, value: false }],
  );
  const spki = publicKeySpki(session, publicKey);
  if (!spki) throw new TesseraError('HSM_ERROR', `The partition did not give the public half of the new “${label}”.`);
  return spki;
}

/** The SubjectPublicKeyInfo of an EC public-key object; null when the object lacks its curve or point. */
export function publicKeySpki(session: Session, publicKey: Handle): Buffer | null {
  const raw = session.readRaw(publicKey, [CKA.EC_PARAMS, CKA.EC_POINT], CKO.PUBLIC_KEY);
  const params = raw.get(CKA.EC_PARAMS);
  const point = raw.get(CKA.EC_POINT);
  return params && point ? spkiFromEc(params, point) : null;
}

/** ECDSA P-256 over SHA-256 of `data`: the HSM signs the digest; the signature is r || s. */
export function signData(session: Session, key: Handle, data: Buffer | ((hash: ReturnType<typeof createHash>) => void)): Buffer {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(data)) hash.update(data);
  else data(hash);
  return session.sign(CKM_ECDSA, key, hash.digest());
}

/** Whether `signature` (r || s) is the ECDSA-SHA256 signature of `data` under `spki`; false for any malformed input. */
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
