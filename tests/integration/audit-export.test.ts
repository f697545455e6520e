// Audit exports on the lab: written to the media stand-in by the CLI, checked by `verify-export` run
// with no database, keychain, HSM or lab in its environment, and by the openssl + jq recipe of
// docs/audit-export.md. Each kind of damage is made to a copy of the file, as anyone holding the
// stick could, and must be caught and located.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryHash } from '../../src/core/audit/chain';
import type { AuditExportReport, AuditExportVerification } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { lab, openTerminal, pkcs11Tool, root, tempHome, tessera } from './support';

/** A terminal on a partition of its own with some history: a sealed crypto-officer session, then more entries. */
async function history(): Promise<{ home: string; label: string; serial: string; media: string }> {
  const partition = await lab.newPartition(`Export ${Date.now().toString(36)}`);
  const terminal = await openTerminal();
  try {
    await terminal.partition.selectByLabel(partition.modulePath, partition.label);
    for (let i = 1; i <= 4; i++) await terminal.audit.append({ actor: `officer ${i}`, action: 'test.step', target: partition.label, outcome: i === 3 ? 'failed' : 'ok', details: { step: i, note: i === 2 ? 'ünïcode “quotes”' : 'plain' } });
    await terminal.partition.login(Buffer.from(LAB_USER_PIN));
    await terminal.partition.logout();
    for (let i = 5; i <= 6; i++) await terminal.audit.append({ actor: `officer ${i}`, action: 'test.step', target: partition.label, outcome: 'ok', details: { step: i } });
  } finally {
    await terminal.close();
  }
  const media = mkdtempSync(join(tmpdir(), 'tessera-stick-'));
  return { home: terminal.home, label: partition.label, serial: partition.serial, media };
}

function exportWith(home: string, label: string, media: string, extra: string[] = [], fds: string[] = []): AuditExportReport {
  const out = tessera(['audit', 'export', '--token', label, '--media', media, '--json', ...extra], { home, fds });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout) as AuditExportReport;
}

/** `verify-export` with nothing of the terminal around: an empty HOME, no lab, no D-Bus, no TESSERA_HOME. */
function verifyOffline(file: string, extra: string[] = []): { status: number | null; result: AuditExportVerification; stderr: string; home: string } {
  const home = mkdtempSync(join(tmpdir(), 'auditor-'));
  const result = spawnSync(process.execPath, [join(root, 'bin', 'tessera.js'), 'audit', 'verify-export', file, '--json', ...extra], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TESSERA_HOME: join(home, 'tessera') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, result: JSON.parse(result.stdout || '{}') as AuditExportVerification, stderr: result.stderr, home };
}

/** The recipe of docs/audit-export.md, taken from the page itself. */
function recipe(): string {
  const doc = readFileSync(join(root, 'docs', 'audit-export.md'), 'utf8');
  const match = /<!-- recipe: check-export\.sh -->\n```sh\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error('docs/audit-export.md has no recipe block');
  const file = join(mkdtempSync(join(tmpdir(), 'recipe-')), 'check-export.sh');
  writeFileSync(file, match[1]);
  return file;
}

function runRecipe(file: string, fingerprint?: string): { status: number | null; out: string } {
  const r = spawnSync('sh', [recipe(), file, ...(fingerprint ? [fingerprint] : [])], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function auditKeyFingerprint(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pub-'));
  try {
    pkcs11Tool(['--token-label', label, '--read-object', '--type', 'pubkey', '--label', 'Tessera audit key', '--output-file', join(dir, 'pub.der')]);
    return createHash('sha256').update(readFileSync(join(dir, 'pub.der'))).digest('hex');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A damaged copy of the export: `edit` gets the lines (header first) and returns the new ones. */
function damaged(file: string, edit: (lines: string[]) => string[], ending = '\n'): string {
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const copy = join(mkdtempSync(join(tmpdir(), 'damaged-')), 'export.jsonl');
  writeFileSync(copy, `${edit(lines).join('\n')}${ending}`);
  return copy;
}

describe('audit export', () => {
  it('writes every entry with both chains and the partition-signed heads; verify-export and the recipe check it with nothing of the terminal', async () => {
    const { home, label, serial, media } = await history();
    const report = exportWith(home, label, media, ['--pin-fd', '3'], [`${LAB_USER_PIN}\n`]);
    // 4 steps, login, seal, logout, 2 steps, login (for the export), the seal made before writing.
    expect(report).toMatchObject({ from: 1, entries: report.through, unsealed: null });
    expect(report.path.startsWith(media)).toBe(true);
    expect(readdirSync(media).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const bytes = readFileSync(report.path);
    expect(report.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const lines = bytes.toString('utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(header).toMatchObject({ format: 'tessera-audit-export-v1', from: 1, through: report.through, count: report.entries, partition: { label, serial, auditKey: { fingerprint: auditKeyFingerprint(label) } } });
    expect(lines).toHaveLength(report.entries + 1);
    const actions = lines.slice(1).map((l) => (JSON.parse((JSON.parse(l) as { entry: string }).entry) as string[])[3]);
    expect(actions.filter((a) => a === 'audit.seal')).toHaveLength(2);
    expect(actions.at(-1)).toBe('audit.seal');

    const offline = verifyOffline(report.path);
    expect(offline.stderr).toBe('');
    expect(offline.status).toBe(0);
    expect(offline.result).toMatchObject({ valid: true, from: 1, through: report.through, entries: report.entries, seals: { verified: 2, through: report.through - 1 }, unsealed: null, signer: null });
    // It opened no database and wrote nothing where a terminal keeps its state.
    expect(existsSync(join(offline.home, 'tessera'))).toBe(false);
    expect(readdirSync(offline.home)).toEqual([]);

    const fp = auditKeyFingerprint(label);
    expect(verifyOffline(report.path, ['--signer', fp]).result).toMatchObject({ valid: true, signer: { fingerprint: fp, sealedThrough: report.through - 1 } });
    const other = verifyOffline(report.path, ['--signer', 'ab'.repeat(32)]);
    expect(other.status).toBe(1);
    expect(other.result.problem).toMatchObject({ kind: 'signer' });
    const token = tessera(['audit', 'verify-export', report.path, '--token', label, '--json'], { home: tempHome() });
    expect(token.status).toBe(0);
    expect(JSON.parse(token.stdout)).toMatchObject({ valid: true, signer: { fingerprint: fp } });

    expect(runRecipe(report.path)).toMatchObject({ status: 0, out: expect.stringMatching(/^OK: entries 1 to \d+, 2 seal\(s\) verified/) });
    expect(runRecipe(report.path, fp).status).toBe(0);
    expect(runRecipe(report.path, 'cd'.repeat(32))).toMatchObject({ status: 1, out: expect.stringMatching(/no entry of this export is sealed by the audit key/) });

    // The export itself is the log's next entry.
    const listed = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as { seq: number; action: string; details: Record<string, unknown> }[];
    expect(listed.find((e) => e.seq === report.recordedIn)).toMatchObject({ seq: report.recordedIn, action: 'audit.export', details: { file: report.path, sha256: report.sha256, from: 1, through: report.through } });
  });

  it('catches and locates a flipped byte, a deleted entry, two swapped, the end cut, and an edit hidden by a recomputed chain', async () => {
    const { home, label, media } = await history();
    const report = exportWith(home, label, media);
    // Without a crypto-officer login the head is not sealed now: the last entries are unsealed, and said so.
    const good = verifyOffline(report.path);
    expect(good.result).toMatchObject({ valid: true, seals: { verified: 1, through: 5 }, unsealed: { from: 7, through: report.through } });

    const cases: [string, string, Partial<NonNullable<AuditExportVerification['problem']>>, RegExp][] = [
      ['a flipped byte', damaged(report.path, (l) => l.map((line, i) => (i === 2 ? line.replace('officer 2', 'officer 7') : line))), { kind: 'altered', seq: 2, line: 3 }, /Entry 2 on line 3 was altered/],
      ['a deleted entry', damaged(report.path, (l) => l.filter((_, i) => i !== 3)), { kind: 'removed', seq: 3, line: 4 }, /Entry 3 was removed: line 4 holds entry 4/],
      ['two entries swapped', damaged(report.path, (l) => [l[0], l[1], l[3], l[2], ...l.slice(4)] as string[]), { kind: 'reordered', seq: 3, line: 3 }, /Entry 3 \(line 3\) is out of order: it was written right after entry 2, which is on line 4/],
      ['the last entries cut off', damaged(report.path, (l) => l.slice(0, -2)), { kind: 'truncated', seq: report.through - 1 }, /The export was cut: it ends after entry \d+, but its header says it runs to entry \d+/],
      ['the end cut mid-line', damaged(report.path, (l) => [...l.slice(0, -1), (l.at(-1) as string).slice(0, 30)], ''), { kind: 'truncated', seq: report.through }, /The export was cut: it ends in the middle of line/],
      ['a line inserted', damaged(report.path, (l) => [...l.slice(0, 2), l[2] as string, ...l.slice(2)]), { kind: 'reordered', seq: 2, line: 4 }, /Entry 2 \(line 4\) is out of order: it was written right after entry 1/],
    ];
    for (const [what, file, problem, words] of cases) {
      const result = verifyOffline(file);
      expect(result.status, what).toBe(1);
      expect(result.result.valid, what).toBe(false);
      expect(result.result.problem, what).toMatchObject(problem);
      expect(result.result.problem?.message, what).toMatch(words);
      expect(runRecipe(file).status, `recipe: ${what}`).toBe(1);
    }

    // Someone with the stick edits entry 2 and recomputes every hash after it (the chain is public):
    // the chain holds, but the partition's seal over entry 5 no longer matches.
    const hidden = damaged(report.path, (l) => {
      const header = JSON.parse(l[0] as string) as { previousHash: string; headHash: string };
      let prev = header.previousHash;
      const out = l.slice(1).map((line) => {
        const e = JSON.parse(line) as { seq: number; entry: string; prevHash: string; hash: string };
        const entry = e.seq === 2 ? e.entry.replace('officer 2', 'officer 7') : e.entry;
        const hash = entryHash(e.seq, Buffer.from(prev, 'hex'), entry).toString('hex');
        const next = JSON.stringify({ ...e, entry, prevHash: prev, hash });
        prev = hash;
        return next;
      });
      return [JSON.stringify({ ...header, headHash: prev }), ...out];
    });
    const caught = verifyOffline(hidden);
    expect(caught.status).toBe(1);
    expect(caught.result.problem).toMatchObject({ kind: 'seal-broken', seq: 5 });
    expect(caught.result.problem?.message).toMatch(/not the ones the partition sealed in entry 6: an entry from 1 to 5 was altered/);
    expect(runRecipe(hidden)).toMatchObject({ status: 1, out: expect.stringMatching(/the entries up to 5 are not the ones the partition sealed in entry 6/) });
    // Not JSON at all, or not an export.
    const junk = join(mkdtempSync(join(tmpdir(), 'junk-')), 'x.jsonl');
    writeFileSync(junk, 'hello\n');
    expect(verifyOffline(junk).result.problem).toMatchObject({ kind: 'malformed', line: 1 });
  });

  it('exports a period, or everything since the last export; refuses an empty period, a bad date and a missing stick', async () => {
    const { home, label, media } = await history();
    const first = exportWith(home, label, media);
    const nothing = tessera(['audit', 'export', '--token', label, '--media', media, '--since', 'last-export', '--json'], { home });
    // The record of the first export is the one entry since it.
    expect(nothing.status).toBe(0);
    const second = JSON.parse(nothing.stdout) as AuditExportReport;
    expect(second).toMatchObject({ from: first.through + 1, through: first.recordedIn, entries: 1 });
    expect(verifyOffline(second.path).result).toMatchObject({ valid: true, from: first.through + 1 });
    expect(runRecipe(second.path).status).toBe(0);
    expect(second.file).not.toBe(first.file);

    const future = tessera(['audit', 'export', '--token', label, '--media', media, '--since', '2999-01-01'], { home });
    expect(future.status).toBe(1);
    expect(future.stderr).toMatch(/No entry of the audit log falls in that period/);
    const bad = tessera(['audit', 'export', '--token', label, '--media', media, '--since', 'yesterday'], { home });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--since needs a date/);
    const backwards = tessera(['audit', 'export', '--token', label, '--media', media, '--since', '2026-12-01', '--until', '2026-11-01'], { home });
    expect(backwards.status).toBe(1);
    expect(backwards.stderr).toMatch(/--until \(2026-11-01\) is not after --since \(2026-12-01\)/);
    const today = new Date().toISOString().slice(0, 10);
    const period = JSON.parse(tessera(['audit', 'export', '--token', label, '--media', media, '--since', today, '--until', today, '--json'], { home }).stdout) as AuditExportReport;
    expect(period.from).toBe(1);
    const gone = join(media, 'not-there');
    const missing = tessera(['audit', 'export', '--token', label, '--media', gone], { home });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/media is not there/);
    mkdirSync(gone);
    expect(readdirSync(gone)).toEqual([]);
  });
});
