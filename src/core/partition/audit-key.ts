// The partition's audit key: an EC P-256 key pair generated in the partition the first time a
// crypto-officer session ends (hsm/ec-signing.ts: private half private, sensitive, never
// extractable, sign-only), which seals the audit log's head (audit/seal.ts). Only a crypto-officer
// session can use it: a security officer cannot use private keys. It is the partition's, shared
// by every terminal that administers it, and is never backed up (backup/objects.ts).
import { randomBytes } from 'node:crypto';
import { TesseraError } from '../errors';
import { CKA, CKK, CKO } from '../hsm/constants';
import { generateP256SigningKey, publicKeySpki } from '../hsm/ec-signing';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';

export const AUDIT_KEY_LABEL = 'Tessera audit key';

export interface AuditKey {
  /** The private half, for C_Sign. */
  handle: Handle;
  /** The public half as DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

/** The audit key's public half (SPKI), readable without a login; null when the partition has none. */
export function auditPublicKey(session: Session): Buffer | null {
  for (const handle of session.findAll([{ type: CKA.CLASS, value: CKO.PUBLIC_KEY }, { type: CKA.KEY_TYPE, value: CKK.EC }, { type: CKA.LABEL, value: AUDIT_KEY_LABEL }])) {
    const spki = publicKeySpki(session, handle);
    if (spki) return spki;
  }
  return null;
}

/**
 * The audit key, generated now when the partition has none whole (both halves, same CKA_ID).
 * Needs the crypto officer's session (the private half is a private object).
 * @throws TesseraError HSM_ERROR when the partition refuses to generate or read it.
 */
export function auditKey(session: Session): AuditKey {
  for (const handle of session.findAll([{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }, { type: CKA.KEY_TYPE, value: CKK.EC }, { type: CKA.LABEL, value: AUDIT_KEY_LABEL }])) {
    const id = session.readRaw(handle, [CKA.ID], CKO.PRIVATE_KEY).get(CKA.ID);
    if (!id) continue;
    const publicHalf = session.findAll([{ type: CKA.CLASS, value: CKO.PUBLIC_KEY }, { type: CKA.ID, value: id }, { type: CKA.LABEL, value: AUDIT_KEY_LABEL }])[0];
    const spki = publicHalf === undefined ? null : publicKeySpki(session, publicHalf);
    if (spki) return { handle, spki };
  }
  const id = randomBytes(8).toString('hex');
  const spki = generateP256SigningKey(session, AUDIT_KEY_LABEL, id);
  const handle = session.findAll([{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }, { type: CKA.ID, value: Buffer.from(id, 'hex') }, { type: CKA.LABEL, value: AUDIT_KEY_LABEL }])[0];
  if (handle === undefined) throw new TesseraError('HSM_ERROR', 'The partition did not keep the audit key it just generated.');
  return { handle, spki };
}
