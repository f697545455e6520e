// A generation's rotation key: an Ed25519 key pair derived from the set's secret (the SO credential,
// the backup escrow key) for one generation, whose public half is in that generation's descriptor
// and anchor. Only a quorum of a generation can sign with it, so the next generation's anchor, signed
// by it (the endorsement), is vouched for by the cards of the generation it replaces: a terminal that
// trusts generation g trusts g+1 by checking a signature, without any secret (docs/card-profile.md,
// "Generations"). Anyone with a session on the partition can write an anchor; nobody without a
// quorum can endorse one.
import { createPrivateKey, createPublicKey, hkdfSync, sign, verify } from 'node:crypto';
import { wipe } from '../secrets';

/** RFC 8410 PKCS#8 prefix of an Ed25519 private key: the 32-byte seed follows. */
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** RFC 8410 SPKI prefix of an Ed25519 public key: the 32-byte key follows. */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

/** What an endorsement covers: the next generation of a set, and the generation it follows. */
export interface Succession {
  purpose: string;
  set: string;
  partitionSerial: string;
  generation: number;
  descriptorHash: string;
  rotationKey: string;
  previousDescriptorHash: string;
}

function seedOf(secret: Uint8Array, purpose: string, set: string, generation: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `tessera-rotation-key-v1\0${purpose}\0${set}\0${generation}`, 32));
}

/** The public rotation key of a generation (raw Ed25519, 32 bytes, base64), derived from its secret. */
export function rotationPublicKey(secret: Uint8Array, purpose: string, set: string, generation: number): string {
  const seed = seedOf(secret, purpose, set, generation);
  try {
    const der = createPublicKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    return der.subarray(ED25519_SPKI.length).toString('base64');
  } finally {
    wipe(seed);
  }
}

function message(s: Succession): Buffer {
  return Buffer.from(JSON.stringify(['tessera-rotation-v1', s.purpose, s.set, s.partitionSerial, s.generation, s.descriptorHash, s.rotationKey, s.previousDescriptorHash]));
}

/**
 * The previous generation's signature over the next one (Ed25519, base64), made with the rotation
 * key derived from the previous generation's secret. (The key object cannot be wiped; the seed is.)
 */
export function endorse(previousSecret: Uint8Array, previousGeneration: number, next: Succession): string {
  const seed = seedOf(previousSecret, next.purpose, next.set, previousGeneration);
  try {
    const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
    return sign(null, message(next), key).toString('base64');
  } finally {
    wipe(seed);
  }
}

/** Whether `endorsement` is the signature of the previous generation's rotation key over `next`. */
export function endorsed(previousRotationKey: string, next: Succession, endorsement: string): boolean {
  return verifiedBy(previousRotationKey, message(next), endorsement);
}

/**
 * A quorum's signature (Ed25519, base64) over a statement other than a succession (a partition
 * policy record): made with the rotation key of the generation whose secret is given. `statement`
 * must name what it is (its first element a format tag), so it can never pass for an endorsement.
 */
export function signStatement(secret: Uint8Array, purpose: string, set: string, generation: number, statement: Buffer): string {
  const seed = seedOf(secret, purpose, set, generation);
  try {
    const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
    return sign(null, statement, key).toString('base64');
  } finally {
    wipe(seed);
  }
}

/** Whether `signature` is the rotation key `rotationKey`'s (raw Ed25519, base64) over `statement`. */
export function verifiedBy(rotationKey: string, statement: Buffer, signature: string): boolean {
  try {
    const raw = Buffer.from(rotationKey, 'base64');
    if (raw.length !== 32) return false;
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });
    return verify(null, statement, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
