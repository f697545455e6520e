// The partition's backup-signing key: an EC P-256 key pair generated in the partition, private
// half sensitive and never extractable (hsm/ec-signing.ts). It signs every backup and manifest; its
// public half (and fingerprint) is bound into the backup card set, so a restore accepts only
// backups it signed.
import { CKA, CKK, CKO } from '../hsm/constants';
import { generateP256SigningKey } from '../hsm/ec-signing';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';

export { CKM_ECDSA, signData, spkiFromEc, verifyData } from '../hsm/ec-signing';

export const SIGNING_LABEL = 'Tessera backup-signing key';

/** A new backup-signing key with CKA_ID `id` (hex); returns its public half (SPKI). */
export function createSigningKey(session: Session, id: string): Buffer {
  return generateP256SigningKey(session, SIGNING_LABEL, id);
}

/** The search template of the private half with CKA_ID `id` (hex). */
export function signingKeyTemplate(id: string): { type: number; value: number | string | Buffer }[] {
  return [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }, { type: CKA.KEY_TYPE, value: CKK.EC }, { type: CKA.ID, value: Buffer.from(id, 'hex') }, { type: CKA.LABEL, value: SIGNING_LABEL }];
}


/** Signing keys a creation interrupted before it completed left behind (both halves). */
export function signingKeyHandles(session: Session): { id: string; handle: Handle }[] {
  return session.findAll([{ type: CKA.LABEL, value: SIGNING_LABEL }]).map((handle) => ({ handle, id: session.readRaw(handle, [CKA.ID], CKO.PUBLIC_KEY).get(CKA.ID)?.toString('hex') ?? '' }));
}
