// What a restore checks in the partition: whether an object there is the backed-up one (check
// value, modulus, a test signature verified with the backed-up public key, or the same value), and
// where a backup entry may meet an object already there (same class and id, or class and label).
import { randomBytes } from 'node:crypto';
import { TesseraError } from '../errors';
import { CKA, CKK } from '../hsm/constants';
import type { Session } from '../hsm/session';
import type { EntryBody } from './format';
import { type CapturedObject, attribute, isKey } from './objects';
import { signData, spkiFromEc, verifyData } from './signing-key';

export type ObjectEntry = Extract<EntryBody, { kind: 'object' }>;

/** Whether an object in the partition is the backed-up one (same key, certificate or value). */
export function sameContents(session: Session, o: CapturedObject, e: ObjectEntry): boolean {
  if (o.keyType !== e.keyType) return false;
  if (!isKey(e.class)) {
    const defining = [CKA.VALUE, CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.EC_POINT, CKA.APPLICATION];
    return defining.every((t) => attribute(o, t) === attribute(e, t));
  }
  return checkKey(session, o, e).ok;
}

/**
 * The key's check value: CKA_CHECK_VALUE, or (SoftHSM2 gives none for unwrapped keys) the same
 * value computed as PKCS#11 defines it for AES: the first 3 bytes of AES-ECB over a zero block.
 */
function checkValue(session: Session, o: CapturedObject, e: ObjectEntry): string | null {
  const value = attribute(o, CKA.CHECK_VALUE);
  if (typeof value === 'string' && value.length > 0) return value;
  if (e.keyType !== CKK.AES || attribute(o, CKA.ENCRYPT) !== true) return null;
  return session.encrypt(CKM_AES_ECB, o.handle, Buffer.alloc(16)).subarray(0, 3).toString('hex');
}

const CKM_AES_ECB = 0x1081;

/** The partition's objects by class and id, and by class and label: what a backup entry may meet. */
export function indexByIdAndLabel(objects: CapturedObject[]): Map<string, CapturedObject[]> {
  const index = new Map<string, CapturedObject[]>();
  const add = (key: string, o: CapturedObject): void => void index.set(key, [...(index.get(key) ?? []), o]);
  for (const o of objects) {
    if (o.id !== '') add(`${o.class} id ${o.id}`, o);
    if (o.label !== '') add(`${o.class} label ${o.label}`, o);
  }
  return index;
}

/** Whether a key in the partition is the backed-up key: its check value, modulus, or a test signature. */
export function checkKey(session: Session, o: CapturedObject, e: ObjectEntry): { ok: boolean; text: string } {
  const handle = o.handle;
  const check = e.check ?? { kind: 'none' as const, reason: 'The backup records no check for it.' };
  try {
    if (check.kind === 'check-value') {
      const now = checkValue(session, o, e);
      if (now === null) return { ok: true, text: 'not checked: the token gives no check value for this key, and the key may not encrypt' };
      return now === check.value ? { ok: true, text: `passed: check value ${now} matches` } : { ok: false, text: 'its check value differs from the backup\'s' };
    }
    if (check.kind === 'rsa-modulus') {
      const now = attribute(o, CKA.MODULUS);
      return now === check.modulus ? { ok: true, text: 'passed: its modulus matches the backed-up public key' } : { ok: false, text: 'its modulus differs from the backup\'s' };
    }
    if (check.kind === 'ec-public') {
      const message = randomBytes(32);
      const signature = signData(session, handle, message);
      const spki = spkiFromEc(Buffer.from(check.params, 'hex'), Buffer.from(check.point, 'hex'));
      return verifyData(spki, message, signature) ? { ok: true, text: 'passed: a test signature verifies with the backed-up public key' } : { ok: false, text: 'a test signature does not verify with the backed-up public key' };
    }
    return { ok: true, text: `not checked: ${check.reason}` };
  } catch (error) {
    return { ok: false, text: `the check could not run${error instanceof TesseraError && error.detail ? ` (${error.detail})` : ''}` };
  }
}
