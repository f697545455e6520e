// The terminal's audit log: append-only rows in SQLite, chained and keyed (see chain.ts), with the
// key and the chain's anchor in the OS keychain. Entries never hold a secret: details are plain
// scalars chosen by the caller, never request payloads.
import { randomBytes } from 'node:crypto';
import type { AuditEntryView, AuditVerification } from '../../shared/types';
import { TesseraError } from '../errors';
import type { Keychain } from '../keychain/keychain';
import type { Sql } from '../store/database';
import { type AuditAnchor, type AuditFields, type AuditRow, entryMac, genesisMac, verifyChain } from './chain';

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
}

export class AuditLog {
  private key: Buffer | null = null;

  constructor(
    private readonly db: Sql,
    private readonly keychain: Keychain,
    private readonly installationId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get keyAccount(): string {
    return `audit-key:${this.installationId}`;
  }

  private get anchorAccount(): string {
    return `audit-anchor:${this.installationId}`;
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
    const count = (this.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
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

  /** Makes sure an entry can be written before an action is taken. */
  async ready(): Promise<void> {
    await this.loadKey(true);
  }

  async append(input: AuditInput): Promise<AuditEntryView> {
    const key = (await this.loadKey(true)) as Buffer;
    const fields: AuditFields = { ...input, details: input.details ?? {}, time: this.now().toISOString() };
    const row = this.db
      .transaction((): AuditRow => {
        const last = this.db.prepare('SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer } | undefined;
        const prevMac = last?.mac ?? genesisMac(key, this.installationId);
        const seq = (last?.seq ?? 0) + 1;
        const mac = entryMac(key, fields, prevMac);
        this.db
          .prepare('INSERT INTO audit_log (seq, time, actor, action, target, outcome, details, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(seq, fields.time, fields.actor, fields.action, fields.target, fields.outcome, JSON.stringify(fields.details), prevMac, mac);
        return { ...fields, seq, prevMac, mac };
      })
      .immediate();
    await this.keychain.set(this.anchorAccount, encodeAnchor({ seq: row.seq, mac: row.mac }));
    return view(row);
  }

  list(limit: number, beforeSeq?: number): AuditEntryView[] {
    const rows = (
      beforeSeq === undefined
        ? this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?').all(beforeSeq, limit)
    ) as DbRow[];
    return rows.map((r) => view(fromDb(r)));
  }

  async verify(): Promise<AuditVerification> {
    const rows = (this.db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as DbRow[]).map(fromDb);
    const key = await this.loadKey(false);
    if (!key) {
      if (rows.length === 0) return { intact: true, entries: 0, problem: null };
      return {
        intact: false,
        entries: rows.length,
        problem: { seq: null, kind: 'key-missing', message: 'The key of the audit log is missing from this workstation\'s keychain: the log cannot be verified.' },
      };
    }
    const anchor = await this.keychain.get(this.anchorAccount);
    return verifyChain(rows, key, this.installationId, anchor ? decodeAnchor(anchor) : null);
  }
}

function fromDb(r: DbRow): AuditRow {
  let details: AuditFields['details'];
  try {
    details = JSON.parse(r.details) as AuditFields['details'];
  } catch {
    // A row edited into invalid JSON still verifies as "altered" rather than crashing the check.
    details = { unreadable: r.details };
  }
  return { seq: r.seq, time: r.time, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome as AuditFields['outcome'], details, prevMac: r.prev_mac, mac: r.mac };
}

function view(r: AuditRow): AuditEntryView {
  return { seq: r.seq, time: r.time, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, details: r.details };
}

function encodeAnchor(a: AuditAnchor): Buffer {
  return Buffer.from(JSON.stringify({ seq: a.seq, mac: a.mac.toString('hex') }));
}

function decodeAnchor(b: Buffer): AuditAnchor | null {
  try {
    const parsed = JSON.parse(b.toString('utf8')) as { seq: number; mac: string };
    return { seq: parsed.seq, mac: Buffer.from(parsed.mac, 'hex') };
  } catch {
    return null;
  }
}
