// Sealing a share on a card: AES-256-GCM under a key derived from the card PIN with scrypt (memory
// hard) and a per-card random salt. The associated data binds the sealed share to its card set,
// purpose, generation, index, m, n, card and descriptor: a share copied to another card or into
// another set, or a record whose descriptor was edited (e.g. a backup set's signing key), does not open.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { wipe } from '../secrets';

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
}

/**
 * 256 MiB and ~0.6 s on the 2-core workstations this runs on, which keeps a card under the 1 s
 * budget with its APDUs (bench/card.bench.ts); 2^19 would not. Each sealed share records its own
 * parameters, so they can rise later without making existing cards unreadable.
 */
export const DEFAULT_KDF: KdfParams = { name: 'scrypt', N: 1 << 18, r: 8, p: 1 };

export interface Sealed {
  kdf: KdfParams;
  salt: string;
  nonce: string;
  ciphertext: string;
  tag: string;
}

/** What a sealed share is bound to. */
export interface SealBinding {
  set: string;
  purpose: string;
  generation: number;
  index: number;
  m: number;
  n: number;
  card: string;
  /** The whole descriptor's hash: a record whose descriptor was edited on the card does not open. */
  descriptor: string;
}

export function bindingBytes(b: SealBinding): Buffer {
  return Buffer.from(JSON.stringify(['tessera-share-seal-v2', b.set, b.purpose, b.generation, b.index, b.m, b.n, b.card, b.descriptor]));
}

function deriveKey(pin: Buffer, salt: Buffer, kdf: KdfParams): Promise<Buffer> {
  if (kdf.name !== 'scrypt' || kdf.N < 1 << 14 || kdf.N > 1 << 20 || kdf.r < 8 || kdf.r > 32 || kdf.p < 1 || kdf.p > 4) {
    return Promise.reject(new RangeError('KDF parameters out of the accepted range'));
  }
  return new Promise((resolve, reject) =>
    scrypt(pin, salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r * kdf.p + (1 << 20) }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function seal(share: Uint8Array, pin: Buffer, binding: SealBinding, kdf: KdfParams = DEFAULT_KDF): Promise<Sealed> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = await deriveKey(pin, salt, kdf);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(bindingBytes(binding));
    const ciphertext = Buffer.concat([cipher.update(share), cipher.final()]);
    return { kdf, salt: salt.toString('base64'), nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  } finally {
    wipe(key);
  }
}

/** The share, or null when the PIN is wrong or anything sealed or bound was changed. */
export async function unseal(sealed: Sealed, pin: Buffer, binding: SealBinding): Promise<Buffer | null> {
  const key = await deriveKey(pin, Buffer.from(sealed.salt, 'base64'), sealed.kdf);
  try {
    const nonce = Buffer.from(sealed.nonce, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (nonce.length !== 12 || tag.length !== 16) return null;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    decipher.setAAD(bindingBytes(binding));
    decipher.setAuthTag(tag);
    const share = decipher.update(Buffer.from(sealed.ciphertext, 'base64'));
    try {
      return Buffer.concat([share, decipher.final()]);
    } catch {
      wipe(share);
      return null;
    } finally {
      wipe(share);
    }
  } finally {
    wipe(key);
  }
}
