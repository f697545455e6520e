// Where the partition policy is kept, and why it is believed. Each version is a record signed by the
// rotation key of the SO card set's generation that approved it (quorum/rotation-key.ts: only that
// generation's quorum can sign), written to the partition as a public, unmodifiable and (where the
// token allows) undestroyable data object, one per version, each naming the hash of the one before;
// the terminal's database keeps a copy of each. Anyone with a session can write a look-alike; nobody
// without an SO quorum can sign one, so a record that does not verify was changed outside a
// ceremony and is not trusted. The newest version that verifies, on the partition or in the
// database, is in force; a database copy newer than anything on the partition says the partition
// lost its record (docs/trust-model.md, "The partition policy").
import { createHash } from 'node:crypto';
import type { Purpose } from '../partition/anchor';
import type { PartitionService } from '../partition/partition-service';
import { anchorChain } from '../quorum/trust';
import { signStatement, verifiedBy } from '../quorum/rotation-key';
import type { Sql } from '../store/database';
import { type PartitionPolicy, canonicalJson, isPolicy } from './policy';

export const POLICY_LABEL = 'Tessera partition policy';
const FORMAT = 'tessera-policy-v1';
const SO: Purpose = 'so';

/** One version of a partition's policy, as written to the partition and the database. */
export interface PolicyRecord {
  format: typeof FORMAT;
  /** The partition's serial (a record never passes for another partition's). */
  partition: string;
  /** 1 for the first policy recorded, then one more each change. */
  version: number;
  policy: PartitionPolicy;
  /** recordHash of the version before; null for version 1. */
  previous: string | null;
  /** The SO card set generation whose rotation key signed it. */
  signer: { set: string; generation: number };
  /** Who approved it: holders and their card serials. */
  approvers: { holder: string; card: string }[];
  /** When it was signed (ISO 8601, UTC). */
  at: string;
  /** Ed25519 (base64) by the signer's rotation key over `statement(record)`. */
  signature: string;
}

export type UnsignedRecord = Omit<PolicyRecord, 'signature'>;

/** The bytes the signature covers: the record without its signature, canonical JSON, tagged. */
function statement(record: UnsignedRecord): Buffer {
  const { signature: _ignored, ...rest } = record as PolicyRecord;
  return Buffer.from(canonicalJson([FORMAT, rest]));
}

/** SHA-256 (hex) of a record's canonical JSON: what the next version names as `previous`. */
export function recordHash(record: PolicyRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** Signs a record with the rotation key of the SO generation that approved it (its secret rebuilt by the quorum). */
export function signRecord(record: UnsignedRecord, soSecret: Uint8Array): PolicyRecord {
  return { ...record, signature: signStatement(soSecret, SO, record.signer.set, record.signer.generation, statement(record)) };
}

/** Why a record read from the partition or the database is not believed; null when it verifies. */
export function recordProblem(value: unknown, partitionSerial: string, rotationKeyOf: (set: string, generation: number) => string | null): string | null {
  if (!value || typeof value !== 'object') return 'not a policy record';
  const r = value as Partial<PolicyRecord>;
  if (r.format !== FORMAT || typeof r.version !== 'number' || !Number.isInteger(r.version) || r.version < 1 || !isPolicy(r.policy)) return 'not a policy record';
  if (r.partition !== partitionSerial) return `written for another partition (serial ${String(r.partition)})`;
  if (!r.signer || typeof r.signer.set !== 'string' || typeof r.signer.generation !== 'number' || typeof r.signature !== 'string' || !Array.isArray(r.approvers) || typeof r.at !== 'string') return 'not signed';
  const key = rotationKeyOf(r.signer.set, r.signer.generation);
  if (!key) return `signed by generation ${r.signer.generation} of a card set this partition does not vouch for`;
  if (!verifiedBy(key, statement(r as PolicyRecord), r.signature)) return 'its signature does not verify: it was changed outside a ceremony';
  return null;
}

/** A record read back and what became of it. */
export interface ReadRecord {
  record: PolicyRecord | null;
  problem: string | null;
  /** Where it was found. */
  where: 'partition' | 'terminal';
}

/**
 * The SO set's rotation keys the partition vouches for (its chain of endorsed anchors), by set and
 * generation. Only the chain: anchors nobody endorsed never vouch for a policy.
 */
export function soRotationKeys(partition: PartitionService): (set: string, generation: number) => string | null {
  const token = partition.partition();
  const chain = anchorChain(partition.anchors(SO), SO, token.serial);
  return (set, generation) => {
    const anchor = chain?.byGeneration.get(generation);
    return anchor && anchor.set === set ? (anchor.rotationKey ?? null) : null;
  };
}

/** Every policy object on the partition, each checked; modifiable look-alikes are reported, never believed. */
export function readPartitionRecords(partition: PartitionService, rotationKeyOf: (set: string, generation: number) => string | null): ReadRecord[] {
  const serial = partition.partition().serial;
  return partition.dataObjects(POLICY_LABEL).map(({ value, modifiable }) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      return { record: null, problem: 'not a policy record', where: 'partition' as const };
    }
    const problem = modifiable ? 'it is modifiable: the terminal never writes it so' : recordProblem(parsed, serial, rotationKeyOf);
    return { record: problem ? null : (parsed as PolicyRecord), problem, where: 'partition' as const };
  });
}

/** The terminal's database copies of a partition's policy versions. */
export class PolicyStore {
  constructor(private readonly db: Sql) {}

  /** Every version recorded for the partition, oldest first (as stored: checked by the reader). */
  versions(serial: string): unknown[] {
    const rows = this.db.prepare('SELECT record FROM policies WHERE token_serial = ? ORDER BY version').all(serial) as { record: string }[];
    return rows.map((r) => {
      try {
        return JSON.parse(r.record) as unknown;
      } catch {
        return null;
      }
    });
  }

  /** Records a version (once; the same version again is ignored). */
  save(record: PolicyRecord): void {
    this.db.prepare('INSERT OR IGNORE INTO policies (token_serial, version, record, recorded_at) VALUES (?, ?, ?, ?)').run(record.partition, record.version, JSON.stringify(record), new Date().toISOString());
  }
}
