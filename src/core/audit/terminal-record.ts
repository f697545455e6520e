// The terminal's record in the OS keychain: which log this terminal keeps (its installation id)
// and how far that log reached (the head: last seq and mac). It is named from where the terminal
// lives (the real path of its home folder), never from anything in the database, so a database
// that is deleted, emptied, swapped for another terminal's or cut short is caught by comparing
// it with this record. Nothing here is secret: the mac only identifies an entry.
import { realpathSync } from 'node:fs';
import type { AuditAnchor } from './chain';

/** What the keychain knows of this terminal's log. `head` is null until the first entry. */
export interface TerminalRecord {
  installationId: string;
  head: AuditAnchor | null;
}

/** A record as read from the keychain: there, absent, or present but not decodable. */
export type StoredRecord = { state: 'found'; record: TerminalRecord } | { state: 'absent' } | { state: 'unreadable'; account: string };

const FORMAT = 'tessera-terminal-v1';

/**
 * The keychain account of the terminal whose data lives in `home`: a fixed name scoped by the
 * folder's real path, so several terminals (the tests' temporary homes) can share one keychain.
 * @throws Error from realpath when `home` does not exist (the terminal creates it before asking).
 */
export function recordAccount(home: string): string {
  return `terminal:${realpathSync(home)}`;
}

/** The keychain account the audit log's anchor had before the terminal record (named from the database). */
export function legacyAnchorAccount(installationId: string): string {
  return `audit-anchor:${installationId}`;
}

export function encodeRecord(record: TerminalRecord): Buffer {
  return Buffer.from(JSON.stringify({ format: FORMAT, installationId: record.installationId, head: record.head ? { seq: record.head.seq, mac: record.head.mac.toString('hex') } : null }));
}

/** The record in `bytes`, or null when they are not one this terminal wrote (never a guess). */
export function decodeRecord(bytes: Buffer): TerminalRecord | null {
  const parsed = parse(bytes);
  if (!parsed || parsed.format !== FORMAT || typeof parsed.installationId !== 'string' || parsed.installationId === '') return null;
  if (parsed.head === null) return { installationId: parsed.installationId, head: null };
  const head = anchorOf(parsed.head);
  return head ? { installationId: parsed.installationId, head } : null;
}

/** An anchor in the format the audit log wrote before the terminal record ({seq, mac}); null when malformed. */
export function decodeLegacyAnchor(bytes: Buffer): AuditAnchor | null {
  return anchorOf(parse(bytes));
}

function parse(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function anchorOf(value: unknown): AuditAnchor | null {
  if (typeof value !== 'object' || value === null) return null;
  const { seq, mac } = value as { seq?: unknown; mac?: unknown };
  if (!Number.isInteger(seq) || (seq as number) < 1 || typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return null;
  return { seq: seq as number, mac: Buffer.from(mac, 'hex') };
}
