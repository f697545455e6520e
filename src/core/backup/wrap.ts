// The backup's wrapping key inside the HSM, and the choice of key-wrap mechanism: an AES key wrap
// with padding (RFC 5649), since private keys (PKCS#8) are rarely a multiple of 8 bytes. The
// partition is asked what it offers; the choice is recorded in the backup's header.
import { TesseraError } from '../errors';
import { CKA, CKK, CKO } from '../hsm/constants';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { Session } from '../hsm/session';
import type { PartitionService } from '../partition/partition-service';
import { wipe } from '../secrets';

export const KEY_WRAP_CHOICES = [
  { value: 0x210b, name: 'CKM_AES_KEY_WRAP_KWP' },
  { value: 0x210a, name: 'CKM_AES_KEY_WRAP_PAD' },
] as const;

export function chooseKeyWrap(partition: PartitionService, use: 'wrap' | 'unwrap', recorded?: { value: number; name: string }): { value: number; name: string } {
  const choices = recorded ? [recorded] : KEY_WRAP_CHOICES;
  const found = choices.find((c) => partition.supports(c.value, [use]));
  if (found) return { value: found.value, name: found.name };
  throw new TesseraError(
    'HSM_ERROR',
    recorded
      ? `This partition does not offer ${recorded.name}, with which the backup was made. Restore into a partition that does.`
      : 'This partition offers no AES key wrap with padding (CKM_AES_KEY_WRAP_KWP or CKM_AES_KEY_WRAP_PAD). The terminal cannot back it up.',
  );
}

/** The backup's wrapping key as a session object (never extractable); the bytes are wiped. */
export function importWrapKey(session: Session, value: Buffer): Handle {
  try {
    return session.createObject([
      { type: CKA.CLASS, value: CKO.SECRET_KEY },
      { type: CKA.KEY_TYPE, value: CKK.AES },
      { type: CKA.TOKEN, value: false },
      { type: CKA.PRIVATE, value: true },
      { type: CKA.SENSITIVE, value: true },
      { type: CKA.EXTRACTABLE, value: false },
      { type: CKA.WRAP, value: true },
      { type: CKA.UNWRAP, value: true },
      { type: CKA.ENCRYPT, value: false },
      { type: CKA.DECRYPT, value: false },
      { type: CKA.VALUE, value },
    ]);
  } finally {
    wipe(value);
  }
}

export function destroyQuietly(session: Session, handle: Handle | null): void {
  if (!handle) return;
  try {
    session.destroyObject(handle);
  } catch {
    // a session object ends with its session anyway
  }
}
