// The backup set's escrow key (X25519) and the per-backup keys. Making a backup needs only the
// escrow key's public half: a fresh ephemeral key agreement with it gives the backup's own keys
// (HKDF-SHA256), so each backup has fresh keys that only the escrow private key, rebuilt from m
// cards, can compute again (an ECIES / HPKE-style key encapsulation).
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { wipe } from '../secrets';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export const KEM_NAME = 'X25519-HKDF-SHA256';

export interface BackupKeys {
  /** Imported into the HSM as a session key for C_WrapKey / C_UnwrapKey. */
  wrapKey: Buffer;
  /** Encrypts each entry's description (labels, attributes) in software: AES-256-GCM. */
  contentKey: Buffer;
}

/** A new escrow private key: terminal randomness mixed with the HSM's. Raw 32 bytes. */
export function newEscrowKey(hsmRandom: Buffer): Buffer {
  const local = randomBytes(32);
  try {
    return Buffer.from(hkdfSync('sha256', Buffer.concat([local, hsmRandom]), Buffer.alloc(0), 'tessera-escrow-key-v1', 32));
  } finally {
    wipe(local);
  }
}

export function escrowPublic(privateRaw: Buffer): Buffer {
  const der = Buffer.concat([PKCS8_PREFIX, privateRaw]);
  try {
    const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    return Buffer.from(spki.subarray(SPKI_PREFIX.length));
  } finally {
    wipe(der);
  }
}

export function fingerprint(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** For a new backup: an ephemeral public key to record, and the backup's keys. */
export function encapsulate(escrowPublicRaw: Buffer): { ephemeralPublic: Buffer; keys: BackupKeys } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const ephemeralPublic = Buffer.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length));
  const shared = diffieHellman({ privateKey, publicKey: toPublicKey(escrowPublicRaw) });
  return { ephemeralPublic, keys: derive(shared, ephemeralPublic, escrowPublicRaw) };
}

/** For reading a backup: the same keys again, from the rebuilt escrow private key. */
export function decapsulate(escrowPrivateRaw: Buffer, ephemeralPublic: Buffer, escrowPublicRaw: Buffer): BackupKeys {
  const der = Buffer.concat([PKCS8_PREFIX, escrowPrivateRaw]);
  try {
    const shared = diffieHellman({ privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), publicKey: toPublicKey(ephemeralPublic) });
    return derive(shared, ephemeralPublic, escrowPublicRaw);
  } finally {
    wipe(der);
  }
}

function toPublicKey(raw: Buffer) {
  if (raw.length !== 32) throw new RangeError('an X25519 public key has 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function derive(shared: Buffer, ephemeralPublic: Buffer, escrowPublicRaw: Buffer): BackupKeys {
  try {
    // An all-zero agreement means a low-order public key: refuse rather than derive known keys.
    if (shared.every((b) => b === 0)) throw new RangeError('degenerate key agreement');
    const salt = Buffer.concat([ephemeralPublic, escrowPublicRaw]);
    return {
      wrapKey: Buffer.from(hkdfSync('sha256', shared, salt, 'tessera-backup-v1 wrap', 32)),
      contentKey: Buffer.from(hkdfSync('sha256', shared, salt, 'tessera-backup-v1 content', 32)),
    };
  } finally {
    wipe(shared);
  }
}

export function wipeKeys(keys: BackupKeys | null): void {
  if (keys) wipe(keys.wrapKey, keys.contentKey);
}
