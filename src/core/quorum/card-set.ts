// A card set: the SO credential split m-of-n onto officers' cards. The descriptor (the same on
// every card of the set, and recorded by the terminal and on the partition) names the set, its
// partition, generation, holders, one hash per share, and a commitment to the credential. It is
// final before the first card is written, so it does not name the cards (the terminal's records and
// each card's own record do).
// The share library does not check what it reconstructs: the share hashes name a forged or wrong
// share before combining, and the commitment checks the result before the HSM ever sees it.
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import type { Purpose } from '../partition/anchor';
import { wipe } from '../secrets';
import { rotationPublicKey } from './rotation-key';

export type { Purpose } from '../partition/anchor';

export interface CardSetDescriptor {
  v: 1;
  set: string;
  purpose: Purpose;
  partition: { label: string; serial: string };
  generation: number;
  m: number;
  n: number;
  holders: { index: number; holder: string }[];
  shareHashes: string[];
  commitment: string;
  created: string;
  /** A backup set: the escrow key's public half and the partition's backup-signing key, bound to the set. */
  backup?: BackupKeys;
  /**
   * This generation's rotation key (Ed25519 public key, raw, base64; quorum/rotation-key.ts): it
   * endorses the next generation's anchor. Absent only in descriptors written before generations.
   */
  rotationKey?: string;
}

export interface BackupKeys {
  /** X25519 public key, raw 32 bytes, base64. */
  escrowPublic: string;
  /** The backup-signing key's public half (SPKI DER, base64) and its PKCS#11 CKA_ID (hex). */
  signingKey: string;
  signingKeyId: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * A backup set's fingerprint: a short code that officers compare with the set's enrolment record
 * (from the safe) before a partition trusts backups the set made. It covers the escrow key (who can
 * read the backups) and the backup-signing key (who made them): SHA-256 over both, domain-separated,
 * the first 120 bits in RFC 4648 base32, as six groups of four ("ABCD-EFGH-…"). 120 bits keep a
 * second preimage out of reach while staying short enough to read out and type.
 */
export function setFingerprint(keys: Pick<BackupKeys, 'escrowPublic' | 'signingKey'>): string {
  const digest = createHash('sha256').update('tessera-backup-set-fingerprint-v1\0').update(Buffer.from(keys.escrowPublic, 'base64')).update('\0').update(Buffer.from(keys.signingKey, 'base64')).digest();
  let bits = '';
  for (const byte of digest.subarray(0, 15)) bits += byte.toString(2).padStart(8, '0');
  const chars = Array.from({ length: 24 }, (_, i) => BASE32[Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)]);
  return Array.from({ length: 6 }, (_, i) => chars.slice(i * 4, i * 4 + 4).join('')).join('-');
}

/**
 * Whether what an officer typed is `fingerprint`: case, spaces and dashes do not matter, and the
 * digits base32 never uses are read as the letters they look like (0 → O, 1 → I, 8 → B).
 */
export function sameFingerprint(typed: string, fingerprint: string): boolean {
  const norm = (s: string): string => s.toUpperCase().replace(/[\s-]/g, '').replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B');
  const a = Buffer.from(norm(typed));
  const b = Buffer.from(norm(fingerprint));
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/**
 * Control and format characters (escape sequences, bidi overrides, zero-width marks): never part of
 * a holder's name, since a name is printed on the officers' screens and terminals.
 */
export const UNPRINTABLE = /[\p{Cc}\p{Cf}]/u;

/** A new set's descriptor (generation 1): final before the first card is written. */
export function newDescriptor(purpose: Purpose, partition: { label: string; serial: string }, holders: string[], m: number, shares: Buffer[], secret: Buffer, backup?: BackupKeys): CardSetDescriptor {
  return generationDescriptor(newSetId(), 1, purpose, partition, holders, m, shares, secret, backup);
}

/**
 * The descriptor of the generation after `previous` (same set id and purpose, generation + 1), for
 * new holders, threshold and shares of `secret` (a new SO credential; the same or a new escrow key).
 */
export function nextDescriptor(previous: CardSetDescriptor, partition: { label: string; serial: string }, holders: string[], m: number, shares: Buffer[], secret: Buffer, backup?: BackupKeys): CardSetDescriptor {
  return generationDescriptor(previous.set, previous.generation + 1, previous.purpose, partition, holders, m, shares, secret, backup);
}

function generationDescriptor(set: string, generation: number, purpose: Purpose, partition: { label: string; serial: string }, holders: string[], m: number, shares: Buffer[], secret: Buffer, backup?: BackupKeys): CardSetDescriptor {
  return {
    v: 1,
    set,
    purpose,
    partition: { label: partition.label, serial: partition.serial },
    generation,
    m,
    n: holders.length,
    holders: holders.map((holder, i) => ({ index: i + 1, holder })),
    shareHashes: shares.map((share, i) => shareHash(set, generation, i + 1, share)),
    commitment: commitment(set, generation, secret),
    created: new Date().toISOString(),
    ...(backup ? { backup } : {}),
    rotationKey: rotationPublicKey(secret, purpose, set, generation),
  };
}

/** Canonical bytes: keys in a fixed order, so every terminal computes the same hash. */
export function descriptorHash(d: CardSetDescriptor): string {
  const canonical = JSON.stringify([
    d.v,
    d.set,
    d.purpose,
    d.partition.label,
    d.partition.serial,
    d.generation,
    d.m,
    d.n,
    d.holders.map((h) => [h.index, h.holder]),
    d.shareHashes,
    d.commitment,
    d.created,
    ...(d.backup ? [[d.backup.escrowPublic, d.backup.signingKey, d.backup.signingKeyId]] : []),
    ...(d.rotationKey !== undefined ? [['rotation', d.rotationKey]] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function shareHash(set: string, generation: number, index: number, share: Uint8Array): string {
  return createHash('sha256').update(`tessera-share-v1\0${set}\0${generation}\0${index}\0`).update(share).digest('hex');
}

export function commitment(set: string, generation: number, credential: Uint8Array): string {
  return createHash('sha256').update(`tessera-credential-v1\0${set}\0${generation}\0`).update(credential).digest('hex');
}

export function matches(expectedHex: string, actualHex: string): boolean {
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(actualHex, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

export function newSetId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * A new SO credential: terminal randomness mixed with the HSM's (C_GenerateRandom), written as
 * hex so any token accepts it, as long as the token allows (at most 64 characters, at least 32).
 */
export function newCredential(hsmRandom: Buffer, maxPinLength: number): Buffer {
  const length = Math.min(64, maxPinLength - (maxPinLength % 2));
  if (length < 32) throw new RangeError(`the partition allows SO PINs of at most ${maxPinLength} characters; 32 are needed`);
  const local = randomBytes(32);
  const mixed = Buffer.from(hkdfSync('sha256', Buffer.concat([local, hsmRandom]), Buffer.alloc(0), 'tessera-so-credential-v1', 32));
  wipe(local);
  const hex = Buffer.from(mixed.toString('hex').slice(0, length), 'latin1');
  wipe(mixed);
  return hex;
}

/**
 * n shares, any m of which give the secret back. For m = 1 every share is the secret itself.
 * (The library takes and gives plain Uint8Arrays, not Buffers: the copies are wiped here.)
 */
export async function splitSecret(secret: Buffer, m: number, n: number): Promise<Buffer[]> {
  if (m < 1 || n < m || n > 16) throw new RangeError(`invalid threshold ${m} of ${n}`);
  if (m === 1) return Array.from({ length: n }, () => Buffer.from(secret));
  const plain = new Uint8Array(secret);
  try {
    const shares = await split(plain, n, m);
    const out = shares.map((share) => Buffer.from(share));
    wipe(...shares);
    return out;
  } finally {
    wipe(plain);
  }
}

export async function combineShares(shares: Buffer[], m: number): Promise<Buffer> {
  if (m === 1) return Buffer.from(shares[0] as Buffer);
  const plain = shares.slice(0, m).map((share) => new Uint8Array(share));
  try {
    const secret = await combine(plain);
    const out = Buffer.from(secret);
    wipe(secret);
    return out;
  } finally {
    wipe(...plain);
  }
}
