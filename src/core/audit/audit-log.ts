// The terminal's audit log: append-only rows in SQLite, chained and keyed (see chain.ts), with the
// key and the terminal's record (which log this is, and its head) in the OS keychain, and heads
// sealed by the partition (seal.ts). Entries never hold a secret: details are plain scalars chosen
// by the caller, never request payloads.
//
// A database that is not the log the keychain knows (deleted, emptied, another terminal's, cut
// short) raises an alarm at start. While it stands the log takes no entry, so nothing that must be
// audited can happen (every login checks `ready()` first), and no new chain quietly hides the old
// one; it ends only with an officer's acknowledgement, which is itself the next entry and names
// the head that was lost.
import { randomBytes } from 'node:crypto';
import type { AuditEntryView, AuditProblem, AuditVerification } from '../../shared/types';
import { TesseraError } from '../errors';
import type { Keychain } from '../keychain/keychain';
import type { Sql } from '../store/database';
import { officersOf } from './officers';
import { type AuditAnchor, type AuditFields, type AuditRow, entryHash, entryMac, genesisHash, genesisMac, verifyChain } from './chain';
import { type TrustedSealKey, verifySeals } from './seal';
import { type StoredRecord, type TerminalRecord, decodeLegacyAnchor, decodeRecord, encodeRecord, legacyAnchorAccount } from './terminal-record';

export type AuditInput = Omit<AuditFields, 'time' | 'details'> & { details?: AuditFields['details'] };

interface DbRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
  prev_mac: Buffer;
  mac: Buffer;
  hash: Buffer | null;
}

export const ACKNOWLEDGE_ACTION = 'audit.acknowledge';

export class AuditLog {
  private key: Buffer | null = null;
  private alarmFound: AuditProblem | null = null;
  /** Whether `start` has compared the record with the database (it must before any entry is written). */
  private started = false;
  /** Details added to every entry while a scripted ceremony runs (`mark`): practice runs say PRACTICE in each. */
  private marks: AuditFields['details'] = {};

  /**
   * @param installationId the id of the log in this database (settings)
   * @param recordAccount the keychain account of this terminal's record (terminal-record.ts), named from outside the database
   */
  constructor(
    private readonly db: Sql,
    private readonly keychain: Keychain,
    readonly installationId: string,
    private readonly recordAccount: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get keyAccount(): string {
    return `audit-key:${this.installationId}`;
  }

  /** What stops the log from taking entries, found at start; null when it is the log the keychain knows. */
  get alarm(): AuditProblem | null {
    return this.alarmFound;
  }

  /**
   * At start: reads the terminal's record from the keychain, first moving an anchor of the older
   * kind (named from the database) into it, or writing a new one for a new terminal; then compares
   * it with the database and keeps what is wrong as the alarm.
   * @throws TesseraError KEYCHAIN_UNAVAILABLE when the keychain cannot be reached.
   */
  async start(): Promise<AuditProblem | null> {
    if ((await this.readRecord()).state === 'absent') {
      const legacy = await this.keychain.get(legacyAnchorAccount(this.installationId));
      const head = legacy ? decodeLegacyAnchor(legacy) : null;
      if (legacy && head) {
        await this.writeRecord({ installationId: this.installationId, head });
        await this.keychain.delete(legacyAnchorAccount(this.installationId));
      } else if (!legacy && this.count() === 0) {
        await this.writeRecord({ installationId: this.installationId, head: null });
      }
    }
    this.alarmFound = await this.recordProblem();
    this.backfillHashes();
    this.started = true;
    return this.alarmFound;
  }

  /** `start`, if the keychain could not be reached when the terminal opened. */
  private async ensureStarted(): Promise<void> {
    if (!this.started) await this.start();
  }

  /** Loads the key; creates it only for an empty log (a missing key for a non-empty log is an alarm). */
  private async loadKey(createIfEmpty: boolean): Promise<Buffer | null> {
    if (this.key) return this.key;
    const stored = await this.keychain.get(this.keyAccount);
    if (stored) {
      this.key = stored;
      return stored;
    }
    if (!createIfEmpty) return null;
    const count = this.count();
    if (count > 0) {
      throw new TesseraError(
        'AUDIT_UNAVAILABLE',
        'The key of the audit log is missing from this workstation\'s keychain, so the log cannot be extended. Nothing was done. Ask your administrator.',
        `keychain account ${this.keyAccount} is empty; ${count} entries exist`,
      );
    }
    const fresh = randomBytes(32);
    await this.keychain.set(this.keyAccount, fresh);
    this.key = fresh;
    return fresh;
  }

  /**
   * For work that will have to be recorded (ceremonies), before anything is asked of an officer.
   * @throws TesseraError AUDIT_ALARM while the alarm found at start stands.
   */
  assertWritable(): void {
    const alarm = this.alarmFound;
    if (!alarm) return;
    throw new TesseraError(
      'AUDIT_ALARM',
      `The audit log cannot be extended: ${alarm.message} Nothing was done. An officer must acknowledge this first (tessera audit acknowledge).`,
      `audit alarm: ${alarm.kind}`,
    );
  }

  /**
   * Makes sure an entry can be written before an action is taken.
   * @throws TesseraError AUDIT_ALARM (see `alarm`), AUDIT_UNAVAILABLE (key missing for a non-empty log), KEYCHAIN_UNAVAILABLE.
   */
  async ready(): Promise<void> {
    await this.ensureStarted();
    this.assertWritable();
    await this.loadKey(true);
  }

  /**
   * Appends one entry and moves the keychain's head to it.
   * @throws TesseraError as `ready()`, or STORE_ERROR from the database.
   */
  async append(input: AuditInput): Promise<AuditEntryView> {
    await this.ensureStarted();
    this.assertWritable();
    return this.write(input);
  }

  /**
   * Adds `details` to every entry written until `unmark()` (a scripted ceremony's run: its script
   * and, in practice, `practice: true`), whoever writes the entry: ceremonies, logins, seals.
   */
  mark(details: AuditFields['details']): void {
    this.marks = { ...details };
  }

  unmark(): void {
    this.marks = {};
  }

  private async write(input: AuditInput): Promise<AuditEntryView> {
    const key = (await this.loadKey(true)) as Buffer;
    const fields: AuditFields = { ...input, details: { ...(input.details ?? {}), ...this.marks }, time: this.now().toISOString() };
    const row = this.db
      .transaction((): AuditRow => {
        const last = this.db.prepare('SELECT seq, mac, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer; hash: Buffer | null } | undefined;
        const prevMac = last?.mac ?? genesisMac(key, this.installationId);
        const seq = (last?.seq ?? 0) + 1;
        const mac = entryMac(key, fields, prevMac);
        // A predecessor without a hash (a row edited to NULL) gives one that will not verify: the check names it.
        const hash = entryHash(seq, last ? (last.hash ?? Buffer.alloc(32)) : genesisHash(this.installationId), fields);
        this.db
          .prepare('INSERT INTO audit_log (seq, time, actor, action, target, outcome, details, prev_mac, mac, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(seq, fields.time, fields.actor, fields.action, fields.target, fields.outcome, JSON.stringify(fields.details), prevMac, mac, hash);
        return { ...fields, seq, prevMac, mac, hash };
      })
      .immediate();
    await this.writeRecord({ installationId: this.installationId, head: { seq: row.seq, mac: row.mac } });
    return view(row);
  }

  /**
   * An officer's acknowledgement of the alarm: written as the next entry of the database's log
   * (for a replaced database, its first), naming what was found and the head the keychain knew,
   * then that log becomes the terminal's. The caller has checked who the officer is.
   * @throws TesseraError INVALID_REQUEST when there is no alarm; AUDIT_UNAVAILABLE when the
   *   database's log has entries but its key is not in the keychain.
   */
  async acknowledge(actor: string, target: string, officer: AuditFields['details']): Promise<AuditEntryView> {
    const problem = this.alarmFound;
    if (!problem) throw new TesseraError('INVALID_REQUEST', 'The audit log has no alarm to acknowledge.');
    const stored = await this.readRecord();
    const known = stored.state === 'found' ? stored.record : null;
    const entry = await this.write({
      actor,
      action: ACKNOWLEDGE_ACTION,
      target,
      outcome: 'ok',
      details: {
        ...officer,
        problem: problem.kind,
        finding: problem.message,
        previousInstallation: known?.installationId ?? null,
        previousHeadSeq: known?.head?.seq ?? null,
        previousHeadMac: known?.head?.mac.toString('hex') ?? null,
        installation: this.installationId,
      },
    });
    this.alarmFound = null;
    // An unreadable anchor of the older kind is answered by the new record just written.
    await this.keychain.delete(legacyAnchorAccount(this.installationId));
    return entry;
  }

  /** The last entry's seq, mac and public hash (null for a row the backfill has not reached), or null for an empty log. */
  head(): (AuditAnchor & { hash: Buffer | null }) | null {
    const last = this.db.prepare('SELECT seq, mac, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer; hash: Buffer | null } | undefined;
    return last ? { seq: last.seq, mac: last.mac, hash: last.hash } : null;
  }

  /**
   * Entries `from`..`through` (seq, inclusive) in order, with both chains, for an export; and the
   * public hash before `from` (the genesis hash for the first entry).
   */
  range(from: number, through: number): { previousHash: Buffer; rows: AuditRow[] } {
    const rows = (this.db.prepare('SELECT * FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq').all(from, through) as DbRow[]).map(fromDb);
    const before = this.db.prepare('SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(from) as { hash: Buffer | null } | undefined;
    return { previousHash: before ? (before.hash ?? Buffer.alloc(32)) : genesisHash(this.installationId), rows };
  }

  /** The first entry written at or after `time` (ISO 8601), or null. */
  firstSince(time: string): number | null {
    const row = this.db.prepare('SELECT seq FROM audit_log WHERE time >= ? ORDER BY seq LIMIT 1').get(time) as { seq: number } | undefined;
    return row?.seq ?? null;
  }

  /** The last entry with `action` and outcome ok (newest first), or null. */
  lastOf(action: string): AuditEntryView | null {
    const row = this.db.prepare("SELECT * FROM audit_log WHERE action = ? AND outcome = 'ok' ORDER BY seq DESC LIMIT 1").get(action) as DbRow | undefined;
    return row ? view(fromDb(row)) : null;
  }

  /**
   * Rows written before the public chain existed (migration 005) get their hash, in order, from
   * the rows as they are now; the keyed chain still vouches for their content. Only a log with no
   * hash at all is filled (right after the migration every row is one of those): a hash missing
   * beside others was removed, and stays missing for the check to name.
   */
  private backfillHashes(): void {
    const counts = this.db.prepare('SELECT count(*) AS total, count(hash) AS hashed FROM audit_log').get() as { total: number; hashed: number };
    if (counts.total === 0 || counts.hashed > 0) return;
    const update = this.db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?');
    let previous = genesisHash(this.installationId);
    this.db.transaction(() => {
      for (const r of this.db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as DbRow[]) {
        const row = fromDb(r);
        previous = entryHash(row.seq, previous, row);
        update.run(previous, row.seq);
      }
    })();
  }

  list(limit: number, beforeSeq?: number): AuditEntryView[] {
    const rows = (
      beforeSeq === undefined
        ? this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?').all(beforeSeq, limit)
    ) as DbRow[];
    return rows.map((r) => view(fromDb(r)));
  }

  /**
   * Checks the whole log: that it is the log the keychain knows (not replaced, not cut), every
   * entry's mac and order, and every head the partition sealed; with `trusted`, that the seals were
   * made by that partition's audit key. Reports the first problem, naming the entry.
   * @throws TesseraError KEYCHAIN_UNAVAILABLE when the keychain cannot be reached.
   */
  async verify(trusted: TrustedSealKey | null = null): Promise<AuditVerification> {
    await this.ensureStarted();
    const rows = (this.db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as DbRow[]).map(fromDb);
    const noSeals = { verified: 0, through: null, keys: [], partition: trusted ? { ...trusted.partition, key: null } : null };
    const stored = await this.readRecord();
    const foreign = recordMismatch(stored, this.installationId, rows.length);
    if (foreign) return { intact: false, entries: rows.length, problem: foreign, seals: noSeals };
    const key = await this.loadKey(false);
    if (!key) {
      if (rows.length === 0) return { intact: true, entries: 0, problem: null, seals: noSeals };
      return {
        intact: false,
        entries: rows.length,
        problem: { seq: null, kind: 'key-missing', message: 'The key of the audit log is missing from this workstation\'s keychain: the log cannot be verified.' },
        seals: noSeals,
      };
    }
    const chain = verifyChain(rows, key, this.installationId, stored.state === 'found' ? stored.record.head : null);
    if (!chain.intact) return { ...chain, seals: noSeals };
    const { problem, seals } = verifySeals(rows, this.installationId, trusted);
    return { intact: problem === null, entries: rows.length, problem, seals };
  }

  private count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
  }

  private async readRecord(): Promise<StoredRecord> {
    const bytes = await this.keychain.get(this.recordAccount);
    if (bytes) {
      const record = decodeRecord(bytes);
      return record ? { state: 'found', record } : { state: 'unreadable', account: this.recordAccount };
    }
    // An anchor of the older kind that could not be moved into a record (it did not decode) is named, never skipped.
    const legacy = await this.keychain.get(legacyAnchorAccount(this.installationId));
    if (legacy && !decodeLegacyAnchor(legacy)) return { state: 'unreadable', account: legacyAnchorAccount(this.installationId) };
    return { state: 'absent' };
  }

  private writeRecord(record: TerminalRecord): Promise<void> {
    return this.keychain.set(this.recordAccount, encodeRecord(record));
  }

  /** The record against the database, head included: what the alarm at start is made of. */
  private async recordProblem(): Promise<AuditProblem | null> {
    const stored = await this.readRecord();
    const count = this.count();
    const foreign = recordMismatch(stored, this.installationId, count);
    if (foreign || stored.state !== 'found' || !stored.record.head) return foreign;
    const head = stored.record.head;
    const row = this.db.prepare('SELECT mac FROM audit_log WHERE seq = ?').get(head.seq) as { mac: Buffer } | undefined;
    if (!row) {
      const last = this.head();
      return { seq: last?.seq ?? null, kind: 'truncated', message: `The audit log was cut: entries after ${last ? `entry ${last.seq}` : 'the start'} were removed, but this workstation's keychain records that it reached entry ${head.seq}.` };
    }
    if (!row.mac.equals(head.mac)) return { seq: head.seq, kind: 'altered', message: `Entry ${head.seq} is not the entry this workstation's keychain records under that number: the database was replaced by another copy of the log.` };
    return null;
  }
}

/** A keychain record that does not describe this database's log at all (replaced, unreadable, gone). */
function recordMismatch(stored: StoredRecord, installationId: string, entries: number): AuditProblem | null {
  if (stored.state === 'unreadable') {
    return { seq: null, kind: 'anchor-unreadable', message: `This workstation's keychain holds a record of the audit log that cannot be read (account “${stored.account}”): it was damaged or tampered with, so the log cannot be trusted.` };
  }
  if (stored.state === 'absent') {
    return entries > 0 ? { seq: null, kind: 'anchor-missing', message: `This workstation's keychain has no record of the audit log, but the database holds ${entries} entries: the record was removed, or this database was brought from elsewhere.` } : null;
  }
  const { record } = stored;
  if (record.installationId === installationId) return null;
  const known = record.head ? `that reached entry ${record.head.seq}` : 'with no entries yet';
  const found = entries === 0 ? 'a new, empty log' : `another log (installation ${installationId}, ${entries} entries)`;
  return {
    seq: null,
    kind: 'replaced',
    message: `The audit log was replaced: this workstation's keychain records log ${record.installationId} ${known}, but the database holds ${found}. The database was deleted or swapped.`,
  };
}

function fromDb(r: DbRow): AuditRow {
  let details: AuditFields['details'];
  try {
    details = JSON.parse(r.details) as AuditFields['details'];
  } catch {
    // A row edited into invalid JSON still verifies as "altered" rather than crashing the check.
    details = { unreadable: r.details };
  }
  return { seq: r.seq, time: r.time, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome as AuditFields['outcome'], details, prevMac: r.prev_mac, mac: r.mac, hash: r.hash };
}

function view(r: AuditRow): AuditEntryView {
  return { seq: r.seq, time: r.time, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, details: r.details, officers: officersOf(r.details) };
}
