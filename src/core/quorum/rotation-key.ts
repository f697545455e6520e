// A generation's rotation key: an Ed25519 key pair derived from the set's secret (the SO credential,
// the backup escrow key) for one generation, whose public half is in that generation's descriptor
// and anchor. Only a quorum of a generation can sign with it, so the next generation's anchor, signed
// by it (the endorsement), is vouched for by the cards of the generation it replaces: a terminal that
// trusts generation g trusts g+1 by checking a signature, without any secret (docs/card-profile.md,
// "Generations"). Anyone with a session on the partition can write an anchor; nobody without a
// quorum can endorse one. The endorsement is made before the cards are written (the old secret is
// gone after a crash), so a rotation that was rolled back leaves one behind in the intent log; the
// anchor also carries the new generation's own signature (the confirmation), made only once the new
// generation took effect: a rolled-back generation never gets one.
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

/** What is signed: the succession, under a tag that says who signs it (the old generation, or the new one). */
function message(tag: 'tessera-rotation-v1' | 'tessera-rotation-in-force-v1', s: Succession): Buffer {
  return Buffer.from(JSON.stringify([tag, s.purpose, s.set, s.partitionSerial, s.generation, s.descriptorHash, s.rotationKey, s.previousDescriptorHash]));
}

function signWith(secret: Uint8Array, purpose: string, set: string, generation: number, data: Buffer): string {
  const seed = seedOf(secret, purpose, set, generation);
  try {
    const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
    return sign(null, data, key).toString('base64');
  } finally {
    wipe(seed);
  }
}

/** Whether `signature` is the rotation key `rotationKey`'s (raw Ed25519, base64) over `data`. */
export function verifiedBy(rotationKey: string, data: Buffer, signature: string): boolean {
  try {
    const raw = Buffer.from(rotationKey, 'base64');
    if (raw.length !== 32) return false;
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw]), format: 'der', type: 'spki' });
    return verify(null, data, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The previous generation's signature over the next one (Ed25519, base64), made with the rotation
 * key derived from the previous generation's secret. (The key object cannot be wiped; the seed is.)
 */
export function endorse(previousSecret: Uint8Array, previousGeneration: number, next: Succession): string {
  return signWith(previousSecret, next.purpose, next.set, previousGeneration, message('tessera-rotation-v1', next));
}

/** Whether `endorsement` is the signature of the previous generation's rotation key over `next`. */
export function endorsed(previousRotationKey: string, next: Succession, endorsement: string): boolean {
  return verifiedBy(previousRotationKey, message('tessera-rotation-v1', next), endorsement);
}

/**
 * The new generation's own signature over its succession (Ed25519, base64, by the rotation key
 * derived from the new secret): made only once the new generation is in force (the HSM took its
 * SO credential, or a backup set's anchor is about to be written), never kept before.
 */
export function confirmInForce(secret: Uint8Array, next: Succession): string {
  return signWith(secret, next.purpose, next.set, next.generation, message('tessera-rotation-in-force-v1', next));
}

/** Whether `confirmation` is the signature of `next`'s own rotation key over it. */
export function confirmedInForce(next: Succession, confirmation: string): boolean {
  return verifiedBy(next.rotationKey, message('tessera-rotation-in-force-v1', next), confirmation);
}

/** The succession an anchor of a later generation states, on a partition. */
export function successionOf(purpose: string, partitionSerial: string, a: { set: string; generation: number; descriptor: string; rotationKey?: string; previous?: string }): Succession {
  return { purpose, set: a.set, partitionSerial, generation: a.generation, descriptorHash: a.descriptor, rotationKey: a.rotationKey ?? '', previousDescriptorHash: a.previous ?? '' };
}

/**
 * A quorum's signature (Ed25519, base64) over a statement other than a succession (a partition
 * policy record): made with the rotation key of the generation whose secret is given. `statement`
 * must name what it is (its first element a format tag), so it can never pass for an endorsement.
 */
export function signStatement(secret: Uint8Array, purpose: string, set: string, generation: number, statement: Buffer): string {
  return signWith(secret, purpose, set, generation, statement);
}
