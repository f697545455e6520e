// Attack 12: audit exports that verify-export or the openssl + jq recipe of docs/audit-export.md
// accepted when they should not, or where the two disagreed. Exports are built here with a
// node:crypto key standing in for the partition's audit key.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditFields, type AuditRow, canonical, entryHash, genesisHash } from '../../src/core/audit/chain';
import { EXPORT_FORMAT, type ExportHeader, exportText, verifyExport } from '../../src/core/audit/export-format';
import { keyFingerprint, sealDetails, sealStatement } from '../../src/core/audit/seal';

const root = join(__dirname, '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'attack12-'));
  dirs.push(d);
  return d;
}

const partition = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = partition.publicKey.export({ format: 'der', type: 'spki' });
const FP = keyFingerprint(spki);
const installation = randomUUID();

/** A log of `n` entries; `seals` maps a seal's seq to the head it signs (before it). */
function log(n: number, seals: Map<number, number>, edit: (seq: number, f: AuditFields) => AuditFields = (_, f) => f): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = genesisHash(installation);
  for (let seq = 1; seq <= n; seq++) {
    const mac = randomBytes(32);
    let fields: AuditFields = { time: `2026-11-30T17:00:${String(seq % 60).padStart(2, '0')}.000Z`, actor: 'alice', action: 'key.generate', target: `key ${seq}`, outcome: 'ok', details: { n: seq } };
    const head = seals.get(seq);
    if (head !== undefined) {
      const h = rows[head - 1] as AuditRow;
      const signature = sign('sha256', sealStatement(installation, head, h.mac, h.hash as Buffer), { key: partition.privateKey, dsaEncoding: 'ieee-p1363' });
      fields = { ...fields, action: 'audit.seal', target: 'P', details: sealDetails(head, h.mac, spki, signature, 'S1', h.hash as Buffer) };
    }
    fields = edit(seq, fields);
    const hash = entryHash(seq, prev, canonical(fields));
    rows.push({ ...fields, seq, prevMac: Buffer.alloc(32), mac, hash });
    prev = hash;
  }
  return rows;
}

function exported(rows: AuditRow[], from = 1, previousHash?: string): Buffer {
  const part = rows.filter((r) => r.seq >= from);
  const header: ExportHeader = {
    format: EXPORT_FORMAT, hashChain: 'tessera-audit-hash-v1', installation, exported: '2026-11-30T18:00:00.000Z',
    from: part[0]?.seq ?? from, through: part.at(-1)?.seq ?? from, count: part.length,
    previousHash: previousHash ?? (from === 1 ? genesisHash(installation) : (rows[from - 2]?.hash as Buffer)).toString('hex'),
    headHash: (part.at(-1)?.hash as Buffer).toString('hex'), period: { since: null, until: null, sinceLastExport: false },
    partition: { label: 'P', serial: 'S1', auditKey: { fingerprint: FP, publicKey: spki.toString('base64') } },
  };
  return exportText(header, part);
}

/** Rewrites an export's lines with the public chain recomputed from the header's previousHash (what someone with the file alone can do). */
function rechained(lines: string[], header: Partial<ExportHeader> = {}): Buffer {
  const h = { ...(JSON.parse(lines[0] as string) as ExportHeader), ...header };
  let prev = h.previousHash;
  let seq = h.from;
  const out = lines.slice(1).map((l) => {
    const e = JSON.parse(l) as { entry: string; prevMac: string; mac: string };
    const hash = entryHash(seq, Buffer.from(prev, 'hex'), e.entry).toString('hex');
    const line = JSON.stringify({ seq, entry: e.entry, prevHash: prev, hash, prevMac: e.prevMac, mac: e.mac });
    prev = hash;
    seq += 1;
    return line;
  });
  Object.assign(h, { through: seq - 1, count: out.length, headHash: prev });
  return Buffer.from(`${[JSON.stringify(h), ...out].join('\n')}\n`);
}

function linesOf(bytes: Buffer): string[] {
  return bytes.toString('utf8').split('\n').slice(0, -1);
}

let recipeFile: string | null = null;
function recipe(file: Buffer, fingerprint?: string): { status: number | null; out: string } {
  if (!recipeFile) {
    const doc = readFileSync(join(root, 'docs', 'audit-export.md'), 'utf8');
    const match = /<!-- recipe: check-export\.sh -->\n```sh\n([\s\S]*?)```/.exec(doc);
    recipeFile = join(tmp(), 'check-export.sh');
    writeFileSync(recipeFile, match?.[1] ?? '');
  }
  const path = join(tmp(), 'export with space.jsonl');
  writeFileSync(path, file);
  const r = spawnSync('sh', [recipeFile, path, ...(fingerprint ? [fingerprint] : [])], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const genuine = log(12, new Map([[6, 5], [12, 11]]));

describe('attack12: audit export, the TS verifier and the recipe agree', () => {
  it('a genuine export verifies in both, fully sealed', () => {
    const bytes = exported(genuine);
    expect(verifyExport(bytes, FP)).toMatchObject({ valid: true, unsealed: null, signer: { sealedThrough: 11 } });
    const r = recipe(bytes, FP);
    expect(r.out).toBe('OK: entries 1 to 12, 2 seal(s) verified\n');
    expect(r.status).toBe(0);
  });

  it('a forged export whose only seal by the key names a head before the file: refused by both with the key given', () => {
    // The genuine seal entry (head 11) copied into forged entries 100..104 with a made-up previous hash.
    const seal = linesOf(exported(genuine))[12] as string;
    const forged = linesOf(exported(log(4, new Map(), (_, f) => ({ ...f, actor: 'mallory' }))));
    const bytes = rechained([...forged, seal], { from: 100, previousHash: 'ab'.repeat(32) });
    const ts = verifyExport(bytes, FP);
    expect(ts).toMatchObject({ valid: false, problem: { kind: 'signer' } });
    expect(ts.problem?.message).toContain('cover only entries before 100');
    expect(ts.problem?.message).not.toContain('it holds seals by');
    expect(recipe(bytes, FP).status).toBe(1);
    // Without the key: valid in both, and both say nothing in it is sealed.
    expect(verifyExport(bytes)).toMatchObject({ valid: true, unsealed: { from: 100, through: 104 } });
    expect(recipe(bytes)).toMatchObject({ status: 0, out: expect.stringContaining('entries 100 to 104 are not sealed') });
  });

  it('entries appended after the last seal are named unsealed by both', () => {
    const lines = linesOf(exported(genuine));
    const extra = linesOf(exported(log(14, new Map(), (_, f) => ({ ...f, actor: 'mallory' })))).slice(13, 15);
    const bytes = rechained([...lines, ...extra]);
    expect(verifyExport(bytes, FP)).toMatchObject({ valid: true, unsealed: { from: 13, through: 14 } });
    expect(recipe(bytes, FP)).toMatchObject({ status: 0, out: expect.stringContaining('entries 13 to 14 are not sealed by that key') });
  });

  it('a line that is not an entry, inserted in the middle, is refused by both (jq 1.6 only reports the last line in its exit status)', () => {
    const lines = linesOf(exported(genuine));
    const bytes = Buffer.from(`${[...lines.slice(0, 5), '"Alice approved the destruction"', ...lines.slice(5)].join('\n')}\n`);
    expect(verifyExport(bytes)).toMatchObject({ valid: false, problem: { line: 6, kind: 'malformed' } });
    expect(recipe(bytes)).toMatchObject({ status: 1, out: expect.stringContaining('line 6 is not an entry') });
  });

  it.each([
    ['an empty line', (l: string[]) => [...l.slice(0, 4), '', ...l.slice(4)]],
    ['two entries on one line', (l: string[]) => [...l.slice(0, 3), `${l[3]}${l[4]}`, ...l.slice(5)]],
    ['a byte-order mark', (l: string[]) => [`\uFEFF${l[0]}`, ...l.slice(1)]],
  ])('%s: refused by both', (_, edit) => {
    const bytes = Buffer.from(`${edit(linesOf(exported(genuine))).join('\n')}\n`);
    expect(verifyExport(bytes).valid).toBe(false);
    expect(recipe(bytes).status).toBe(1);
  });

  it('a header claiming the start of the log over another previous hash is refused by both', () => {
    const bytes = rechained(linesOf(exported(log(5, new Map()))), { previousHash: 'cd'.repeat(32) });
    expect(verifyExport(bytes)).toMatchObject({ valid: false, problem: { line: 1, kind: 'malformed' } });
    expect(recipe(bytes).status).toBe(1);
  });

  it('bytes that are not UTF-8 are refused, not read as U+FFFD and hashed as such', () => {
    const rows = log(5, new Map(), (seq, f) => (seq === 3 ? { ...f, actor: 'a\uFFFDb' } : f));
    const bytes = exported(rows);
    const at = bytes.indexOf(Buffer.from('a\uFFFDb'));
    const damaged = Buffer.concat([bytes.subarray(0, at + 1), Buffer.from([0xff]), bytes.subarray(at + 4)]);
    expect(verifyExport(damaged)).toMatchObject({ valid: false, problem: { line: 4, kind: 'malformed' } });
    expect(recipe(damaged).status).toBe(1);
  });

  it('an entry that is not in the canonical spelling is named as such, in both', () => {
    const lines = linesOf(exported(log(5, new Map())));
    const e = JSON.parse(lines[3] as string) as { entry: string };
    e.entry = e.entry.replace('"alice"', '"\\u0061lice"');
    lines[3] = JSON.stringify(e);
    const bytes = rechained(lines);
    expect(verifyExport(bytes)).toMatchObject({ valid: false, problem: { seq: 3, line: 4, kind: 'altered', message: expect.stringContaining('canonical spelling') } });
    expect(recipe(bytes)).toMatchObject({ status: 1, out: expect.stringContaining('entry 3 on line 4 was altered') });
  });

  it('a line with "entry" given twice (a first-wins reader sees another entry than the one checked) is refused by both', () => {
    const lines = linesOf(exported(genuine));
    const shown = canonical({ time: '2026-11-30T17:00:03.000Z', actor: 'alice', action: 'key.generate', target: 'nothing happened', outcome: 'ok', details: {} });
    lines[3] = `{"entry":${JSON.stringify(shown)},${(lines[3] as string).slice(1)}`;
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    expect(verifyExport(bytes, FP)).toMatchObject({ valid: false, problem: { line: 4, kind: 'malformed' } });
    expect(recipe(bytes, FP)).toMatchObject({ status: 1, out: expect.stringContaining('line 4 is not an entry') });
  });

  it('CRLF line endings: refused by both (the file is not as written)', () => {
    const bytes = Buffer.from(exported(genuine).toString('utf8').replace(/\n/g, '\r\n'));
    expect(verifyExport(bytes).valid).toBe(false);
    expect(recipe(bytes).status).toBe(1);
  });

  it('the recipe takes the fingerprint as verify-export does (capitals, colons)', () => {
    const spelt = FP.toUpperCase().match(/.{2}/g)?.join(':') ?? '';
    expect(recipe(exported(genuine), spelt)).toMatchObject({ status: 0 });
  });
});
