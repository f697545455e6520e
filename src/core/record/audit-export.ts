// Writing an audit export to USB media (format: audit/export-format.ts, docs/audit-export.md): the
// log checked whole first, its head sealed by the partition when the crypto officer is logged in,
// the file written to a temporary name, flushed, renamed, read back from the medium and verified as
// an auditor would, then the export recorded as the log's next entry (`audit.export`), so the next
// export "since the last one" starts there and holds the record of this one.
import { createHash } from 'node:crypto';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log';
import { EXPORT_FORMAT, type ExportHeader, exportText, verifyExport } from '../audit/export-format';
import { HASH_CHAIN } from '../audit/chain';
import { keyFingerprint } from '../audit/seal';
import { AtomicFile, mediaAt, readFromMedium } from '../backup/media';
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import type { AuditExportReport } from '../../shared/types';

export const EXPORT_ACTION = 'audit.export';

/** What to export: everything (neither), since a time, or since the last export; until a time. */
export interface ExportRequest {
  /** The USB stick (a folder). */
  media: string;
  /** ISO 8601 date or date-time (UTC when no zone is given), or 'last-export'. */
  since?: string | null;
  /** ISO 8601 date or date-time: entries written before it (a date alone: to the end of that day). */
  until?: string | null;
}

export interface ExportDeps {
  audit: AuditLog;
  partition: PartitionService;
  mediaStandIns: string[];
  actor: string;
}

/** Exports can hold any log this terminal keeps; a bound keeps one export from filling memory unbounded. */
const MAX_EXPORT_BYTES = 512 * 1024 * 1024;

/**
 * Writes an export of the audit log to `request.media` and records it.
 * @returns the file's path, SHA-256 (of the bytes read back), range and what the seals cover.
 * @throws TesseraError AUDIT_ALARM (the log is not the one this workstation keeps, or is damaged:
 *   an export would carry that silently), INVALID_REQUEST (a bad `since`/`until`, or nothing in
 *   the period), MEDIA_ERROR (stick missing, full, pulled; nothing is left on it).
 */
export async function exportAudit(deps: ExportDeps, request: ExportRequest): Promise<AuditExportReport> {
  const { audit, partition } = deps;
  await audit.ready();
  const check = await audit.verify();
  if (!check.intact) throw new TesseraError('AUDIT_ALARM', `The audit log is damaged, so it is not exported: ${check.problem?.message ?? ''} Run tessera audit verify, and ask your administrator.`.replace('  ', ' '));
  const media = await mediaAt(request.media, deps.mediaStandIns);

  const { from, through, sinceLastExport } = range(audit, request);
  // With the crypto officer logged in, the partition seals the head now, so the whole export is vouched for.
  const sealed = through === audit.head()?.seq && (await partition.sealNow());
  const last = sealed ? (audit.head()?.seq ?? through) : through;
  const { previousHash, rows } = audit.range(from, last);
  const head = rows.at(-1);
  if (!head?.hash) throw new TesseraError('AUDIT_ALARM', 'The audit log has entries without their public hash; it cannot be exported. Run tessera audit verify.');

  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    hashChain: HASH_CHAIN,
    installation: audit.installationId,
    exported: new Date().toISOString(),
    from,
    through: last,
    count: rows.length,
    previousHash: previousHash.toString('hex'),
    headHash: head.hash.toString('hex'),
    period: { since: sinceLastExport ? null : (request.since ?? null), until: request.until ?? null, sinceLastExport },
    partition: partitionOf(partition),
  };
  const bytes = exportText(header, rows);
  if (bytes.length > MAX_EXPORT_BYTES) throw new TesseraError('INVALID_REQUEST', 'The export would be larger than 512 MB: export a shorter period (--since/--until).');
  const path = await freeName(media.path, `tessera-audit-${stamp(header.exported)}-${from}-${last}`);
  const file = await AtomicFile.create(path);
  try {
    await file.write(bytes);
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();

  // Read back from the stick itself (not the page cache) and checked as an auditor will.
  const back = await readFromMedium(path, MAX_EXPORT_BYTES, 'audit export');
  const sha256 = createHash('sha256').update(back.bytes).digest('hex');
  if (!back.bytes.equals(bytes)) throw new TesseraError('MEDIA_ERROR', `The export read back from the USB stick is not what was written (${path}). Do not use it; try another stick.`);
  const verified = verifyExport(back.bytes);
  if (!verified.valid) throw new TesseraError('INTERNAL', `The export does not verify: ${verified.problem?.message ?? ''}`);

  const entry = await audit.append({
    actor: deps.actor,
    action: EXPORT_ACTION,
    target: media.label,
    outcome: 'ok',
    details: { file: path, sha256, from, through: last, entries: rows.length, since: header.period.since, until: header.period.until, sinceLastExport, sealedThrough: verified.seals.through },
  });
  return { path, file: path.split('/').at(-1) ?? path, sha256, from, through: last, entries: rows.length, sealedThrough: verified.seals.through, unsealed: verified.unsealed, recordedIn: entry.seq };
}

/** The entries of the period asked for. */
function range(audit: AuditLog, request: ExportRequest): { from: number; through: number; sinceLastExport: boolean } {
  const head = audit.head();
  if (!head) throw new TesseraError('INVALID_REQUEST', 'The audit log is empty: there is nothing to export.');
  let from = 1;
  let through = head.seq;
  const sinceLastExport = request.since === 'last-export';
  if (sinceLastExport) {
    const previous = audit.lastOf(EXPORT_ACTION);
    const previousThrough = previous ? Number(previous.details.through) : 0;
    from = Number.isInteger(previousThrough) ? previousThrough + 1 : 1;
  } else if (request.since) {
    from = audit.firstSince(instant(request.since, '--since', false)) ?? head.seq + 1;
  }
  if (request.until) {
    const until = instant(request.until, '--until', true);
    if (request.since && request.since !== 'last-export' && until <= instant(request.since, '--since', false)) {
      throw new TesseraError('INVALID_REQUEST', `--until (${request.until}) is not after --since (${request.since}): the period is empty.`);
    }
    const after = audit.firstSince(until);
    through = after === null ? head.seq : after - 1;
  }
  if (from > through) throw new TesseraError('INVALID_REQUEST', `No entry of the audit log falls in that period${sinceLastExport ? ' (nothing was written since the last export)' : ''}: there is nothing to export.`);
  return { from, through, sinceLastExport };
}

/**
 * An ISO 8601 date or date-time as the log's time format (UTC, `toISOString`). A date alone means
 * its start, or for `until` the start of the next day.
 * @throws TesseraError INVALID_REQUEST naming the option when it is not a date.
 */
export function instant(value: string, option: string, endOfDay: boolean): string {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(ms)) {
    throw new TesseraError('INVALID_REQUEST', `${option} needs a date (2026-11-30) or a date and time (2026-11-30T14:00Z), or last-export; not "${value}".`);
  }
  return new Date(dateOnly && endOfDay ? ms + 86_400_000 : ms).toISOString();
}

function partitionOf(partition: PartitionService): ExportHeader['partition'] {
  try {
    const key = partition.auditSealKey();
    return { label: key.partition.label, serial: key.partition.serial, auditKey: key.spki ? { fingerprint: keyFingerprint(key.spki), publicKey: key.spki.toString('base64') } : null };
  } catch {
    // No partition chosen: the export still holds every seal with its key.
    return null;
  }
}

/** 2026-11-30T17:05:09.123Z → 20261130T170509Z */
function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+/, '');
}

/** `<base>.jsonl`, or `<base>-2.jsonl`…: an export never replaces a file on the stick. */
async function freeName(folder: string, base: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const path = join(folder, `${base}${n === 1 ? '' : `-${n}`}.jsonl`);
    try {
      await access(path);
    } catch {
      return path;
    }
  }
  throw new TesseraError('MEDIA_ERROR', 'The USB stick holds too many exports of this name.');
}

/**
 * An export file's bytes, for verification on any machine (bounded like the exports written).
 * @throws TesseraError MEDIA_ERROR when it is missing or unreadable; INVALID_REQUEST when larger than any export.
 */
export async function readExportFile(path: string): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(path);
    // A named pipe or a device would be read forever (a FIFO has no size and never ends).
    if (!info.isFile()) throw new TesseraError('INVALID_REQUEST', `That is not a file: ${path}. Give the .jsonl export.`);
    size = info.size;
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new TesseraError('MEDIA_ERROR', code === 'ENOENT' ? `There is no such file: ${path}.` : `The export cannot be read: ${path}.`, code);
  }
  if (size > MAX_EXPORT_BYTES) throw new TesseraError('INVALID_REQUEST', 'This file is larger than any audit export Tessera writes.', `${size} bytes`);
  try {
    return await readFile(path);
  } catch (error) {
    throw new TesseraError('MEDIA_ERROR', `The export cannot be read: ${path}.`, (error as NodeJS.ErrnoException).code);
  }
}
