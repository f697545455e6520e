// The backup's wrapping key inside the HSM, and the choice of key-wrap mechanism: an AES key wrap
// with padding (RFC 5649), since private keys (PKCS#8) are rarely a multiple of 8 bytes. The
// partition is asked what it offers; the choice is recorded in the backup's header.
import { TesseraError } from '../errors';
import { CKA, CKK, CKO } from '../hsm/constants';
import { KeyNotWrapped } from '../hsm/hsm-worker-client';
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

/**
 * The keys of a wrap loop on the HSM worker (PartitionService.wrapKeys: wrapped keys in ordered
 * batches) one at a time: each call gives the next key's wrapped bytes, waiting for the worker's
 * next batch only when this one is used up. Calls must not overlap.
 * @throws the error `refused(index, error)` makes when the HSM would not wrap key `index`;
 *   TesseraError INTERNAL when asked for more keys than the loop wrapped; the loop's other errors as they come
 */
export function inOrder(batches: AsyncGenerator<Buffer[], void, undefined>, refused: (index: number, error: TesseraError) => TesseraError): () => Promise<Buffer> {
  let batch: Buffer[] = [];
  let at = 0;
  return async () => {
    while (at >= batch.length) {
      let step: IteratorResult<Buffer[], void>;
      try {
        step = await batches.next();
      } catch (error) {
        throw error instanceof KeyNotWrapped ? refused(error.index, error) : error;
      }
      if (step.done) throw new TesseraError('INTERNAL', 'The HSM worker wrapped fewer keys than the backup holds.');
      batch = step.value;
      at = 0;
    }
    return batch[at++] as Buffer;
  };
}
