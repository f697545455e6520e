// Heads of the log sealed by the partition. When a crypto-officer session ends, the partition's
// audit key (an EC P-256 key that never leaves it) signs a statement naming the log's head, and
// the signature goes into the log as an `audit.seal` entry. Whoever has the partition's public
// key can then tell that the entries up to that head are the ones that existed when it signed,
// even against someone holding this workstation's database and keychain (and so the HMAC key).
//
// The signed bytes (documented for exports and outside verifiers; never change them, add a new
// version instead) are the UTF-8 JSON text, without spaces, of the array
//   ["tessera-audit-head-v2", <installation id>, <head seq>, <head mac, 64 lowercase hex>, <head hash, 64 lowercase hex>]
// (the head of both chains, chain.ts; seals made before the public chain existed are
// "tessera-audit-head-v1" without the hash, still checked here but not by an offline auditor),
// signed with ECDSA P-256 over SHA-256; the signature is r || s (64 bytes), stored as hex. The
// key is recorded as its DER SubjectPublicKeyInfo (base64) and SHA-256 fingerprint of it (hex).
import { createHash, createPublicKey } from 'node:crypto';
import type { AuditProblem, AuditSeals } from '../../shared/types';
import { verifyData } from '../hsm/ec-signing';
import type { AuditDetails, AuditRow } from './chain';

export const SEAL_ACTION = 'audit.seal';
export const SEAL_STATEMENT = 'tessera-audit-head-v1';
/** Seals that also sign the public hash chain's head: what an export's auditor checks. */
export const SEAL_STATEMENT_V2 = 'tessera-audit-head-v2';

/** What a seal entry carries in its details. */
export interface SealDetails {
  statement: typeof SEAL_STATEMENT | typeof SEAL_STATEMENT_V2;
  headSeq: number;
  /** The mac of entry `headSeq` (hex). */
  headMac: string;
  /** The public hash of entry `headSeq` (hex); in v2 seals only. */
  headHash?: string;
  /** SHA-256 of the audit key's SubjectPublicKeyInfo (hex). */
  key: string;
  /** The audit key's SubjectPublicKeyInfo (DER, base64). */
  publicKey: string;
  /** ECDSA r || s (hex). */
  signature: string;
  /** The serial of the partition whose key signed (not part of the signed bytes: the key is). */
  partition: string;
}

/** The exact bytes the partition signs for the head `seq`/`mac` (and, v2, `hash`) of log `installationId`. */
export function sealStatement(installationId: string, seq: number, mac: Buffer, hash?: Buffer): Buffer {
  const fields = hash ? [SEAL_STATEMENT_V2, installationId, seq, mac.toString('hex'), hash.toString('hex')] : [SEAL_STATEMENT, installationId, seq, mac.toString('hex')];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

/** SHA-256 fingerprint (hex) of a public key's SubjectPublicKeyInfo. */
export function keyFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

/** The details of a seal entry for a signature the partition made over `sealStatement(...)`. */
export function sealDetails(seq: number, mac: Buffer, spki: Buffer, signature: Buffer, partitionSerial: string, hash?: Buffer): SealDetails & AuditDetails {
  const head = hash ? { statement: SEAL_STATEMENT_V2, headSeq: seq, headMac: mac.toString('hex'), headHash: hash.toString('hex') } : { statement: SEAL_STATEMENT, headSeq: seq, headMac: mac.toString('hex') };
  return { ...head, key: keyFingerprint(spki), publicKey: spki.toString('base64'), signature: signature.toString('hex'), partition: partitionSerial } as SealDetails & AuditDetails;
}

/** A partition's audit key to check its seals against (seals naming that partition must be by this key). */
export interface TrustedSealKey {
  partition: { label: string; serial: string };
  /** The audit public key the partition holds (SPKI), or null when it holds none. */
  spki: Buffer | null;
}

/**
 * Checks every seal in `rows` (seq order, chain already verified): its statement is signed by the
 * key it names, the key is the partition's for seals naming the partition `trusted` (a terminal
 * may seal with several partitions), and the entry it covers is
 * still the one that was signed. An entry changed under a seal is located between the previous
 * good seal and this one (the chain's key was used to hide it, or the chain check would have
 * named it first).
 */
export function verifySeals(rows: readonly AuditRow[], installationId: string, trusted: TrustedSealKey | null): { problem: AuditProblem | null; seals: AuditSeals } {
  const trustedKey = trusted?.spki ? keyFingerprint(trusted.spki) : null;
  const seals: AuditSeals = { verified: 0, through: null, keys: [], partition: trusted ? { ...trusted.partition, key: trustedKey } : null };
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const fail = (seq: number, message: string): { problem: AuditProblem; seals: AuditSeals } => ({ problem: { seq, kind: 'seal-broken', message }, seals });
  let sealedThrough = 0;
  for (const row of rows) {
    if (row.action !== SEAL_ACTION || row.outcome !== 'ok') continue;
    const seal = readSeal(row.details);
    if (!seal) return fail(row.seq, `Entry ${row.seq} (a head sealed by the partition) cannot be read: it was altered.`);
    if (trusted && seal.partition === trusted.partition.serial && seal.key !== trustedKey) {
      return fail(row.seq, `Entry ${row.seq} was sealed by a key that is not the audit key of partition “${trusted.partition.label}” (serial ${trusted.partition.serial})${trustedKey ? '' : ', which holds no audit key'}.`);
    }
    const spki = Buffer.from(seal.publicKey, 'base64');
    if (keyFingerprint(spki) !== seal.key || !verifyData(spki, signedBytes(installationId, seal), Buffer.from(seal.signature, 'hex'))) {
      return fail(row.seq, `The partition's signature in entry ${row.seq} does not match the head it names: the seal was altered.`);
    }
    const head = bySeq.get(seal.headSeq);
    if (!head || head.seq >= row.seq || head.mac.toString('hex') !== seal.headMac || (seal.headHash !== undefined && head.hash?.toString('hex') !== seal.headHash)) {
      const from = sealedThrough + 1;
      const range = from >= seal.headSeq ? `entry ${seal.headSeq}` : `an entry from ${from} to ${seal.headSeq}`;
      return fail(seal.headSeq, `The entries up to ${seal.headSeq} are not the ones the partition sealed in entry ${row.seq}: ${range} was altered or replaced, and the log's key was used to hide it.`);
    }
    sealedThrough = seal.headSeq;
    seals.verified += 1;
    seals.through = seal.headSeq;
    if (!seals.keys.includes(seal.key)) seals.keys.push(seal.key);
  }
  return { problem: null, seals };
}

/** The bytes a seal's signature is over, by its statement's version. */
export function signedBytes(installationId: string, seal: SealDetails): Buffer {
  return sealStatement(installationId, seal.headSeq, Buffer.from(seal.headMac, 'hex'), seal.headHash === undefined ? undefined : Buffer.from(seal.headHash, 'hex'));
}

/** A seal entry's details, checked for shape (they come from a database anyone could edit); null when malformed. */
export function readSeal(details: AuditDetails): SealDetails | null {
  const { statement, headSeq, headMac, headHash, key, publicKey, signature, partition } = details;
  if ((statement !== SEAL_STATEMENT && statement !== SEAL_STATEMENT_V2) || !Number.isInteger(headSeq) || typeof headMac !== 'string' || !/^[0-9a-f]{64}$/.test(headMac)) return null;
  const v2 = statement === SEAL_STATEMENT_V2;
  if (v2 ? typeof headHash !== 'string' || !/^[0-9a-f]{64}$/.test(headHash) : headHash !== undefined) return null;
  if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key) || typeof publicKey !== 'string' || typeof signature !== 'string' || !/^([0-9a-f]{2})+$/.test(signature) || typeof partition !== 'string') return null;
  try {
    createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
  return { statement, headSeq: headSeq as number, headMac, ...(v2 ? { headHash: headHash as string } : {}), key, publicKey, signature, partition };
}
