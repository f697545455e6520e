// The trash bin: keys invalidated through the terminal, with what they were. Each invalidation is
// recorded twice: on the partition, as a private data object of the crypto officer (so another
// terminal with the crypto-officer PIN sees the bin, and nobody without it learns key labels), and
// in the terminal's database. A record names the key (CKA_ID, label), each object's usage attributes
// exactly as they were, who invalidated it and when. Reactivation restores those attributes, checked
// against both records; destruction removes the key and its record.
import type { InvalidatedKeyView, ObjectClassName, UsageAttributes } from '../../shared/types';
import type { Handle } from '../hsm/pkcs11-adapter';
import type { PartitionService } from '../partition/partition-service';
import { canonicalJson } from '../policy/policy';
import type { Sql } from '../store/database';

export const TRASH_LABEL = 'Tessera invalidated key';
const FORMAT = 'tessera-invalidated-key-v1';

/** One invalidation, as the partition and the database keep it. */
export interface InvalidationRecord {
  format: typeof FORMAT;
  /** The partition's serial. */
  partition: string;
  /** CKA_ID, hex. */
  id: string;
  label: string;
  /** Each object of the key and its usage attributes before invalidation. */
  objects: { class: ObjectClassName; keyType: string | null; label: string; usage: UsageAttributes }[];
  /** Who invalidated it (the terminal's actor) and when (ISO 8601, UTC). */
  by: string;
  at: string;
}

/** Whether `value` is a well-formed record of this partition (read from a file or object anyone could have written). */
export function isRecord(value: unknown, serial: string): value is InvalidationRecord {
  if (!value || typeof value !== 'object') return false;
  const r = value as Partial<InvalidationRecord>;
  return (
    r.format === FORMAT &&
    r.partition === serial &&
    typeof r.id === 'string' &&
    /^[0-9a-f]*$/.test(r.id) &&
    typeof r.label === 'string' &&
    typeof r.by === 'string' &&
    typeof r.at === 'string' &&
    Array.isArray(r.objects) &&
    r.objects.every((o) => o && typeof o === 'object' && typeof o.class === 'string' && typeof o.label === 'string' && o.usage && typeof o.usage === 'object' && Object.values(o.usage).every((v) => typeof v === 'boolean'))
  );
}

/** The same invalidation, recorded the same way. */
export function sameRecord(a: InvalidationRecord, b: InvalidationRecord): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** A record on the partition and its object's handle (to remove it when the key leaves the bin). */
export interface PartitionRecord {
  handle: Handle;
  record: InvalidationRecord | null;
  /** Why it is not believed (not a record, modifiable, another partition's). */
  problem: string | null;
}

/** The trash bin's records on the partition; needs the crypto officer's session (they are private objects). */
export function partitionRecords(partition: PartitionService): PartitionRecord[] {
  const serial = partition.partition().serial;
  return partition.dataObjects(TRASH_LABEL, { private: true }).map(({ handle, value, modifiable }) => {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      // reported below
    }
    if (!isRecord(parsed, serial)) return { handle, record: null, problem: 'not a record of this partition\'s trash bin' };
    if (modifiable) return { handle, record: null, problem: 'modifiable: the terminal never writes it so' };
    return { handle, record: parsed, problem: null };
  });
}

/** Writes an invalidation's record to the partition: private, unmodifiable, destroyable (it ends with the key's stay in the bin). */
export function writePartitionRecord(partition: PartitionService, record: InvalidationRecord): void {
  partition.writeDataObject(TRASH_LABEL, Buffer.from(JSON.stringify(record)), { private: true, destroyable: true });
}

/** Removes the partition's records of key `id` (every one of them). */
export function removePartitionRecords(partition: PartitionService, id: string): void {
  for (const r of partitionRecords(partition)) if (r.record?.id === id) partition.destroyDataObject(r.handle);
}

export type SettledState = 'reactivated' | 'destroyed' | 'gone';

/** The terminal's database half of the trash bin. */
export class TrashBinStore {
  constructor(private readonly db: Sql) {}

  /** Records an invalidation (once: the same key and time again is ignored). */
  add(record: InvalidationRecord): void {
    this.db.prepare("INSERT OR IGNORE INTO invalidated_keys (token_serial, key_id, invalidated_at, record, state) VALUES (?, ?, ?, ?, 'invalidated')").run(record.partition, record.id, record.at, JSON.stringify(record));
  }

  /** The keys of the partition still in the bin, as this terminal recorded them (checked for shape; the caller compares them with the partition's). */
  open(serial: string): InvalidationRecord[] {
    const rows = this.db.prepare("SELECT record FROM invalidated_keys WHERE token_serial = ? AND state = 'invalidated' ORDER BY invalidated_at").all(serial) as { record: string }[];
    const out: InvalidationRecord[] = [];
    for (const row of rows) {
      try {
        const parsed = JSON.parse(row.record) as unknown;
        if (isRecord(parsed, serial)) out.push(parsed);
      } catch {
        // a row that is not a record is not shown as one
      }
    }
    return out;
  }

  /** Ends a key's stay in the bin. */
  settle(serial: string, id: string, state: SettledState, by: string): void {
    this.db.prepare("UPDATE invalidated_keys SET state = ?, settled_at = ?, settled_by = ? WHERE token_serial = ? AND key_id = ? AND state = 'invalidated'").run(state, new Date().toISOString(), by, serial, id);
  }
}

/** A record as the window and the CLI show it, before the key itself is looked at. */
export function viewOf(record: InvalidationRecord, recordedOn: InvalidatedKeyView['recordedOn'], problem: string | null): InvalidatedKeyView {
  return { id: record.id, label: record.label, objects: record.objects, invalidatedBy: record.by, invalidatedAt: record.at, recordedOn, state: 'not-checked', problem };
}
