// The audit export: a file an auditor checks on another machine, with no database, keychain, HSM or
// Tessera at all (docs/audit-export.md gives the format and an openssl + jq recipe). JSON Lines:
// line 1 is the header, then one line per entry in order. Each entry line carries the entry's
// canonical text exactly as the public hash chain hashed it (chain.ts `entryHash`), so nothing has
// to be re-serialised to check it; seals (`audit.seal` entries, seal.ts) are entries like any other
// and carry the partition's signature over the chain's head.
//
// What the file proves: every entry and its place (the public chain, recomputed); that the entries
// up to each head a partition sealed are the ones it signed (v2 seals); and, with the signer given
// (`--signer`/`--token`), that this partition's audit key made those seals. Entries after the last
// seal are chained but vouched for by nobody an auditor can check: the result says which they are.
import { z } from 'zod';
import type { AuditExportProblem, AuditExportVerification } from '../../shared/types';
import { type AuditDetails, type AuditFields, type AuditRow, HASH_CHAIN, canonical, entryHash, genesisHash } from './chain';
import { SEAL_ACTION, SEAL_STATEMENT_V2, keyFingerprint, readSeal, signedBytes } from './seal';
import { verifyData } from '../hsm/ec-signing';

export const EXPORT_FORMAT = 'tessera-audit-export-v1';
/** The canonical entry text's own version tag (chain.ts). */
const ENTRY_VERSION = 'tessera-audit-v1';

/**
 * The export's schemas, built at their first use: zod takes milliseconds to build them, which every
 * `tessera` command would otherwise pay when the terminal loads, exporting or not.
 */
function buildSchemas() {
  const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

  /** Line 1 of an export. */
  const exportHeader = z
    .object({
      format: z.literal(EXPORT_FORMAT),
      hashChain: z.literal(HASH_CHAIN),
      installation: z.string().min(1).max(200),
      exported: z.string().max(40),
      from: z.number().int().min(1),
      through: z.number().int().min(1),
      count: z.number().int().min(1),
      previousHash: hex32,
      headHash: hex32,
      period: z.object({ since: z.string().max(40).nullable(), until: z.string().max(40).nullable(), sinceLastExport: z.boolean() }).strict(),
      partition: z
        .object({
          label: z.string().max(200),
          serial: z.string().max(200),
          auditKey: z.object({ fingerprint: hex32, publicKey: z.string().max(1000) }).strict().nullable(),
        })
        .strict()
        .nullable(),
    })
    .strict();

  /** Every other line: one entry. */
  const exportLine = z
    .object({
      seq: z.number().int().min(1),
      entry: z.string().max(1_000_000),
      prevHash: hex32,
      hash: hex32,
      prevMac: hex32,
      mac: hex32,
    })
    .strict();

  const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
  /** The canonical entry text, parsed (chain.ts `canonical`). */
  const canonicalEntry = z.tuple([z.literal(ENTRY_VERSION), z.string(), z.string(), z.string(), z.string(), z.enum(['ok', 'failed', 'refused']), z.array(z.tuple([z.string(), scalar]))]);
  return { exportHeader, exportLine, canonicalEntry };
}
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | null = null;
const schemas = (): Schemas => (built ??= buildSchemas());

export type ExportHeader = z.infer<Schemas['exportHeader']>;

/**
 * The export's bytes: the header, then each row (seq order, contiguous), one JSON object per line,
 * each line ending in "\n".
 */
export function exportText(header: ExportHeader, rows: readonly AuditRow[]): Buffer {
  const lines = [JSON.stringify(header)];
  let previous = header.previousHash;
  for (const row of rows) {
    const hash = row.hash?.toString('hex') ?? '';
    lines.push(JSON.stringify({ seq: row.seq, entry: canonical(row), prevHash: previous, hash, prevMac: row.prevMac.toString('hex'), mac: row.mac.toString('hex') }));
    previous = hash;
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

interface ParsedEntry {
  seq: number;
  line: number;
  text: string;
  prevHash: string;
  hash: string;
  fields: AuditFields | null;
}

/**
 * Checks an export (its bytes) as an auditor would, offline: the header; each line's entry against
 * the public hash chain from the header's `previousHash`; that the entries run from `from` to
 * `through` with nothing cut off; every seal (v2: the partition's signature over the head of both
 * chains, the head still the entry it signed); with `signer` (a SHA-256 fingerprint of a
 * partition's audit key, hex), that this key made at least one seal. Names the first entry that
 * was altered, removed, inserted or reordered. Never throws on malformed input: it says what is
 * wrong in `problem`.
 */
export function verifyExport(bytes: Buffer, signer: string | null = null): AuditExportVerification {
  const result: AuditExportVerification = {
    valid: false,
    problem: null,
    installation: null,
    from: null,
    through: null,
    entries: 0,
    seals: { verified: 0, through: null, keys: [], uncheckable: 0 },
    signer: signer ? { fingerprint: signer, sealedThrough: null } : null,
    unsealed: null,
    partition: null,
  };
  const fail = (problem: AuditExportProblem): AuditExportVerification => ({ ...result, valid: false, problem });
  let text: string;
  try {
    // Not bytes.toString: it turns bytes that are not UTF-8 into U+FFFD, so the text hashed would not be the file's.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const bad = firstNonUtf8Line(bytes);
    return fail({ seq: null, line: bad, kind: 'malformed', message: `Line ${bad} is not UTF-8 text: the export was damaged.` });
  }
  const cut = !text.endsWith('\n');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();

  let header: ExportHeader;
  try {
    header = schemas().exportHeader.parse(asWritten(lines[0] ?? ''));
  } catch {
    return fail({ seq: null, line: 1, kind: 'malformed', message: 'This is not a Tessera audit export, or its first line (the header) was damaged.' });
  }
  result.installation = header.installation;
  result.from = header.from;
  result.through = header.through;
  result.partition = header.partition ? { label: header.partition.label, serial: header.partition.serial, key: header.partition.auditKey?.fingerprint ?? null } : null;
  if (header.through < header.from || header.count !== header.through - header.from + 1) {
    return fail({ seq: null, line: 1, kind: 'malformed', message: `The header does not add up: entries ${header.from} to ${header.through} cannot be ${header.count} entries.` });
  }

  if (header.from === 1 && header.previousHash !== genesisHash(header.installation).toString('hex')) {
    return fail({ seq: null, line: 1, kind: 'malformed', message: `The header says the export starts at the beginning of log ${header.installation}, but its previous hash is not that log's start: the header was edited.` });
  }

  // Parse every line first, so an entry moved later in the file can be named as moved.
  const entries: ParsedEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    let parsed: z.infer<Schemas['exportLine']>;
    try {
      parsed = schemas().exportLine.parse(asWritten(lines[i] as string));
    } catch {
      const last = i === lines.length - 1;
      if (last && cut) {
        const before = entries.at(-1)?.seq;
        return fail({ seq: before === undefined ? header.from : before + 1, line: lineNo, kind: 'truncated', message: `The export was cut: it ends in the middle of line ${lineNo}${before === undefined ? '' : `, after entry ${before}`}; its header says it runs to entry ${header.through}.` });
      }
      return fail({ seq: null, line: lineNo, kind: 'malformed', message: `Line ${lineNo} is not an entry of an audit export: it was damaged or inserted.` });
    }
    entries.push({ seq: parsed.seq, line: lineNo, text: parsed.entry, prevHash: parsed.prevHash, hash: parsed.hash, fields: fieldsOf(parsed.entry) });
  }
  const byHash = new Map(entries.map((e) => [e.hash, e]));

  let previous = header.previousHash;
  let expectedSeq = header.from;
  for (const e of entries) {
    const recomputed = entryHash(expectedSeq, Buffer.from(previous, 'hex'), e.text).toString('hex');
    if (e.prevHash !== previous) {
      const predecessor = byHash.get(e.prevHash);
      if (predecessor) {
        return fail({ seq: e.seq, line: e.line, kind: 'reordered', message: `Entry ${e.seq} (line ${e.line}) is out of order: it was written right after entry ${predecessor.seq}, which is on line ${predecessor.line}.` });
      }
      return fail({ seq: expectedSeq, line: e.line, kind: 'removed', message: `Entry ${expectedSeq === e.seq ? `${e.seq} does not follow the entry before it` : `${expectedSeq}${e.seq > expectedSeq + 1 ? ` to ${e.seq - 1}` : ''} was removed`}: line ${e.line} holds entry ${e.seq}, which was written after an entry that is not in the export.` });
    }
    if (e.seq === expectedSeq && e.hash === recomputed && !e.fields) {
      return fail({ seq: e.seq, line: e.line, kind: 'altered', message: `Entry ${e.seq} on line ${e.line} was altered or inserted: its text is not an audit entry as Tessera writes it (the one canonical spelling), though its hash was recomputed to follow from it.` });
    }
    if (e.seq !== expectedSeq || e.hash !== recomputed || !e.fields) {
      // The entry's text, its number or its hash was changed: its hash no longer follows from it.
      const inserted = e.seq === expectedSeq ? '' : ` (it says it is entry ${e.seq})`;
      return fail({ seq: expectedSeq, line: e.line, kind: 'altered', message: `Entry ${expectedSeq} on line ${e.line}${inserted} was altered or inserted: its hash does not follow from its content and the entry before it.` });
    }
    previous = e.hash;
    expectedSeq += 1;
  }
  const last = entries.at(-1);
  result.entries = entries.length;
  if (!last || last.seq < header.through) {
    return fail({ seq: last ? last.seq + 1 : header.from, line: (last?.line ?? 1) + 1, kind: 'truncated', message: `The export was cut: it ends ${last ? `after entry ${last.seq}` : 'before its first entry'}, but its header says it runs to entry ${header.through}.` });
  }
  if (last.seq > header.through || previous !== header.headHash) {
    return fail({ seq: header.through, line: 1, kind: 'altered', message: `The header does not match the entries: it names another last entry than entry ${last.seq} of the file (entries were added, or the header was edited).` });
  }

  // Seals: the partition's signatures over heads of the chain.
  const hashOf = new Map(entries.map((e) => [e.seq, e.hash]));
  let sealedThrough: number | null = null;
  let signerThrough: number | null = null;
  // How far the (signer's) seals vouch: through their heads, and through a seal entry itself when
  // it seals the entry right before it (its own content is what the signature covers).
  let vouchedEnd: number | null = null;
  for (const e of entries) {
    const f = e.fields as AuditFields;
    if (f.action !== SEAL_ACTION || f.outcome !== 'ok') continue;
    const seal = readSeal(f.details);
    if (!seal) return fail({ seq: e.seq, line: e.line, kind: 'seal-broken', message: `Entry ${e.seq} (a head sealed by a partition) cannot be read.` });
    if (seal.statement !== SEAL_STATEMENT_V2) {
      // Made before the public chain existed: it signs the workstation's keyed chain only.
      result.seals.uncheckable += 1;
      continue;
    }
    const spki = Buffer.from(seal.publicKey, 'base64');
    if (keyFingerprint(spki) !== seal.key || !verifyData(spki, signedBytes(header.installation, seal), Buffer.from(seal.signature, 'hex'))) {
      return fail({ seq: e.seq, line: e.line, kind: 'seal-broken', message: `The partition's signature in entry ${e.seq} (line ${e.line}) does not match the head it names: the seal was altered.` });
    }
    if (seal.headSeq >= e.seq) return fail({ seq: e.seq, line: e.line, kind: 'seal-broken', message: `Entry ${e.seq} seals entry ${seal.headSeq}, which comes after it: the seal was moved.` });
    const head = hashOf.get(seal.headSeq);
    if (head === undefined) {
      // A head before this export's first entry: its signature holds, the entries it covers are in an earlier export.
      result.seals.verified += 1;
      if (!result.seals.keys.includes(seal.key)) result.seals.keys.push(seal.key);
      continue;
    }
    if (head !== seal.headHash) {
      const from = Math.max(sealedThrough ?? header.from - 1, header.from - 1) + 1;
      return fail({ seq: seal.headSeq, line: e.line, kind: 'seal-broken', message: `The entries up to ${seal.headSeq} are not the ones the partition sealed in entry ${e.seq}: ${from >= seal.headSeq ? `entry ${seal.headSeq}` : `an entry from ${from} to ${seal.headSeq}`} was altered or replaced, and the chain was recomputed to hide it.` });
    }
    result.seals.verified += 1;
    if (!result.seals.keys.includes(seal.key)) result.seals.keys.push(seal.key);
    sealedThrough = Math.max(sealedThrough ?? 0, seal.headSeq);
    if (signer && seal.key === signer) signerThrough = Math.max(signerThrough ?? 0, seal.headSeq);
    if (!signer || seal.key === signer) vouchedEnd = Math.max(vouchedEnd ?? 0, seal.headSeq === e.seq - 1 ? e.seq : seal.headSeq);
  }
  result.seals.through = sealedThrough;
  if (vouchedEnd === null || vouchedEnd < header.through) result.unsealed = { from: Math.max(vouchedEnd === null ? header.from : vouchedEnd + 1, header.from), through: header.through };
  if (signer) {
    result.signer = { fingerprint: signer, sealedThrough: signerThrough };
    if (signerThrough === null) {
      const others = result.seals.keys.filter((k) => k !== signer);
      const before = result.seals.keys.includes(signer) ? ` (its seals by that key cover only entries before ${header.from}, which are not in this file)` : '';
      return fail({ seq: null, line: null, kind: 'signer', message: `No entry of this export is sealed by the audit key ${signer}: nothing in it is vouched for by that partition${before}${others.length > 0 ? ` (it holds seals by ${others.join(', ')})` : ''}.` });
    }
  }
  return { ...result, valid: true, problem: null };
}

/**
 * A line's JSON, only when the line is exactly as exportText writes it: a key given twice (JSON.parse
 * keeps the last; a person, grep or another reader may see the first), escapes or spaces would let
 * the file show another entry than the one checked.
 * @throws SyntaxError otherwise.
 */
function asWritten(line: string): unknown {
  const value: unknown = JSON.parse(line);
  if (JSON.stringify(value) !== line) throw new SyntaxError('not as written');
  return value;
}

/** The line (1 is the header) of the first byte that is not UTF-8. */
function firstNonUtf8Line(bytes: Buffer): number {
  let start = 0;
  for (let line = 1; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    const chunk = bytes.subarray(start, end === -1 ? bytes.length : end);
    try {
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(chunk);
    } catch {
      return line;
    }
    if (end === -1) return line;
    start = end + 1;
  }
}

/** The fields of a canonical entry text, or null when it is not one. */
function fieldsOf(text: string): AuditFields | null {
  try {
    const [, time, actor, action, target, outcome, details] = schemas().canonicalEntry.parse(JSON.parse(text));
    const fields: AuditFields = { time, actor, action, target, outcome, details: Object.fromEntries(details) as AuditDetails };
    // Only the one canonical spelling of these fields is accepted (no duplicate or unsorted keys).
    return canonical(fields) === text ? fields : null;
  } catch {
    return null;
  }
}
