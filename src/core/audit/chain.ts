// The audit chain, as pure functions. Each entry is authenticated with a key kept in the OS
// keychain: mac = HMAC-SHA256(key, canonical(entry fields) || prev_mac). An entry stores the mac
// of the entry it followed when it was written, so verification can tell an altered entry (its own
// mac fails), a removed one (its predecessor's mac is nowhere in the log) and a reordered one (its
// predecessor exists, elsewhere). An anchor (last seq and mac) kept outside the database catches
// entries cut off the end.
//
// Beside the keyed chain runs a public one: hash = SHA-256 over the entry's canonical text and the
// hash before it (`entryHash`). Anyone can recompute it without the key, and the partition's seals
// sign its head too (seal.ts), so an auditor with an export (docs/audit-export.md) checks every
// entry offline: the keyed chain guards the log on this workstation, the public one in an export.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditOutcome, AuditVerification } from '../../shared/types';

/** What the chain alone can tell; the log adds what its seals say. */
export type ChainVerification = Omit<AuditVerification, 'seals'>;

export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditFields {
  time: string;
  actor: string;
  action: string;
  target: string;
  outcome: AuditOutcome;
  details: AuditDetails;
}

export interface AuditRow extends AuditFields {
  seq: number;
  prevMac: Buffer;
  mac: Buffer;
  /** The public chain's hash of this entry (`entryHash`); null only for a row a backfill has not reached (read as altered). */
  hash: Buffer | null;
}

export interface AuditAnchor {
  seq: number;
  mac: Buffer;
}

const VERSION = 'tessera-audit-v1';

/** The first entry's predecessor: binds the chain to this terminal's installation. */
export function genesisMac(key: Buffer, installationId: string): Buffer {
  return createHmac('sha256', key).update(`${VERSION}\0genesis\0${installationId}`).digest();
}

export function canonical(fields: AuditFields): string {
  const details = Object.keys(fields.details)
    .sort()
    .map((k) => [k, fields.details[k]]);
  return JSON.stringify([VERSION, fields.time, fields.actor, fields.action, fields.target, fields.outcome, details]);
}

/** The name of the public hash chain (docs/audit-export.md); a change of its bytes gets a new name. */
export const HASH_CHAIN = 'tessera-audit-hash-v1';

/** The public chain's value before the first entry of log `installationId` (SHA-256, 32 bytes). */
export function genesisHash(installationId: string): Buffer {
  return createHash('sha256').update(`${HASH_CHAIN}\ngenesis\n${installationId}`, 'utf8').digest();
}

/**
 * The public chain's hash of entry `seq` (SHA-256, 32 bytes) over the UTF-8 text
 * `tessera-audit-hash-v1\n<seq>\n<previous hash, 64 lowercase hex>\n<canonical(fields)>`:
 * what an auditor recomputes from an export with `printf` and `openssl dgst -sha256`.
 */
export function entryHash(seq: number, prevHash: Buffer, fields: AuditFields | string): Buffer {
  const text = typeof fields === 'string' ? fields : canonical(fields);
  return createHash('sha256').update(`${HASH_CHAIN}\n${seq}\n${prevHash.toString('hex')}\n${text}`, 'utf8').digest();
}

export function entryMac(key: Buffer, fields: AuditFields, prevMac: Buffer): Buffer {
  return createHmac('sha256', key).update(canonical(fields)).update('\0').update(prevMac).digest();
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks the whole chain, rows in seq order. Reports the first problem, naming the entry:
 * the first entry whose own mac fails, or whose recorded predecessor is not the entry before it.
 */
export function verifyChain(rows: readonly AuditRow[], key: Buffer, installationId: string, anchor: AuditAnchor | null): ChainVerification {
  const genesis = genesisMac(key, installationId);
  const byMac = new Map(rows.map((r) => [r.mac.toString('hex'), r]));
  let previous = genesis;
  let previousHash = genesisHash(installationId);
  for (const row of rows) {
    if (!same(entryMac(key, row, row.prevMac), row.mac)) {
      return broken(rows.length, row.seq, 'altered', `Entry ${row.seq} was altered after it was written.`);
    }
    if (!same(row.prevMac, previous)) {
      const predecessor = byMac.get(row.prevMac.toString('hex'));
      if (predecessor || same(row.prevMac, genesis)) {
        return broken(rows.length, row.seq, 'reordered', `Entry ${row.seq} is out of order: it was written after ${predecessor ? `entry ${predecessor.seq}` : 'the start of the log'}.`);
      }
      return broken(rows.length, row.seq, 'removed', `One or more entries right before entry ${row.seq} were removed.`);
    }
    // The keyed chain holds, so the entry is as written: a public hash that does not follow from it was edited (exports would carry it).
    const expected = entryHash(row.seq, previousHash, row);
    if (!row.hash || !same(row.hash, expected)) {
      return broken(rows.length, row.seq, 'altered', `The public hash of entry ${row.seq} was altered after it was written (exports of the log would not verify).`);
    }
    previous = row.mac;
    previousHash = expected;
  }
  if (anchor) {
    const last = rows.at(-1);
    const anchored = rows.find((r) => r.seq === anchor.seq);
    if (!anchored || !same(anchored.mac, anchor.mac)) {
      if (!last || last.seq < anchor.seq) {
        return broken(rows.length, last?.seq ?? null, 'truncated', `Entries after ${last ? `entry ${last.seq}` : 'the start'} were removed: the log once reached entry ${anchor.seq}.`);
      }
      return broken(rows.length, anchor.seq, 'altered', `Entry ${anchor.seq} is not the entry that was written under that number.`);
    }
  }
  return { intact: true, entries: rows.length, problem: null };
}

function broken(entries: number, seq: number | null, kind: NonNullable<AuditVerification['problem']>['kind'], message: string): ChainVerification {
  return { intact: false, entries, problem: { seq, kind, message } };
}
