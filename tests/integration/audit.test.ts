// The audit log with the real SQLite file and the real keychain (the lab's Secret Service).
// Each kind of tampering is done directly to the database file, as an attacker with the file
// would, and must be detected and located.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/audit/audit-log';
import { KeytarKeychain } from '../../src/core/keychain/keytar-keychain';
import { openDatabase } from '../../src/core/store/database';
import { Settings } from '../../src/core/store/settings';
import type { Terminal } from '../../src/core/terminal';
import { openTerminal, tempHome, tessera } from './support';

async function logWith(entries: number): Promise<Terminal> {
  const terminal = await openTerminal(tempHome());
  for (let i = 1; i <= entries; i++) {
    await terminal.audit.append({ actor: `officer ${i}`, action: 'test.step', target: 'Tessera Lab', outcome: i % 3 === 0 ? 'failed' : 'ok', details: { step: i } });
  }
  return terminal;
}

/** Edits the database behind the terminal's back, through a second connection to the same file. */
function tamper(terminal: Terminal, sql: string): void {
  const db = openDatabase(`${terminal.home}/tessera.db`);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('audit log', () => {
  it('appends chained entries that survive a restart and verify', async () => {
    const terminal = await logWith(5);
    const home = terminal.home;
    await terminal.close();
    const again = await openTerminal(home);
    try {
      expect(await again.audit.verify()).toEqual({ intact: true, entries: 5, problem: null });
      const entries = again.audit.list(3);
      expect(entries.map((e) => e.seq)).toEqual([5, 4, 3]);
      expect(entries[2]).toMatchObject({ actor: 'officer 3', outcome: 'failed', details: { step: 3 } });
      expect(again.audit.list(10, 3).map((e) => e.seq)).toEqual([2, 1]);
    } finally {
      await again.close();
    }
  });

  const cases: [string, string, { seq: number | null; kind: string }][] = [
    ['an edited field', "UPDATE audit_log SET outcome = 'ok' WHERE seq = 3", { seq: 3, kind: 'altered' }],
    ['edited details', `UPDATE audit_log SET details = '{"step":99}' WHERE seq = 4`, { seq: 4, kind: 'altered' }],
    ['details that are no longer JSON', "UPDATE audit_log SET details = 'garbage' WHERE seq = 2", { seq: 2, kind: 'altered' }],
    ['a deleted entry', 'DELETE FROM audit_log WHERE seq = 3', { seq: 4, kind: 'removed' }],
    ['a deleted first entry', 'DELETE FROM audit_log WHERE seq = 1', { seq: 2, kind: 'removed' }],
    ['entries cut off the end', 'DELETE FROM audit_log WHERE seq >= 5', { seq: 4, kind: 'truncated' }],
    ['every entry deleted', 'DELETE FROM audit_log', { seq: null, kind: 'truncated' }],
    ['two entries swapped', 'UPDATE audit_log SET seq = -seq WHERE seq IN (2, 4); UPDATE audit_log SET seq = 4 WHERE seq = -2; UPDATE audit_log SET seq = 2 WHERE seq = -4;', { seq: 2, kind: 'reordered' }],
    ['an entry copied over another', 'UPDATE audit_log SET time = (SELECT time FROM audit_log WHERE seq = 1), actor = (SELECT actor FROM audit_log WHERE seq = 1) WHERE seq = 5', { seq: 5, kind: 'altered' }],
  ];

  for (const [what, sql, problem] of cases) {
    it(`detects and locates ${what}`, async () => {
      const terminal = await logWith(6);
      try {
        tamper(terminal, sql);
        const result = await terminal.audit.verify();
        expect(result.intact).toBe(false);
        expect(result.problem).toMatchObject(problem);
        expect(result.problem?.message).toMatch(problem.seq === null ? /removed/ : new RegExp(`[Ee]ntr(y|ies).*\\b${problem.seq}\\b`));
      } finally {
        await terminal.close();
      }
    });
  }

  it('reports a missing key instead of passing or crashing, and refuses to extend the log', async () => {
    const terminal = await logWith(2);
    try {
      const db = openDatabase(`${terminal.home}/tessera.db`);
      const id = new Settings(db).installationId();
      db.close();
      const keychain = new KeytarKeychain();
      expect(await keychain.delete(`audit-key:${id}`)).toBe(true);
      const fresh = new AuditLog(openDatabase(`${terminal.home}/tessera.db`), keychain, id);
      expect((await fresh.verify()).problem).toMatchObject({ kind: 'key-missing' });
      await expect(fresh.append({ actor: 'x', action: 'y', target: 'z', outcome: 'ok' })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    } finally {
      await terminal.close();
    }
  });

  it('stores the key in the keychain, not in the database', async () => {
    const terminal = await logWith(1);
    try {
      const db = openDatabase(`${terminal.home}/tessera.db`);
      const id = new Settings(db).installationId();
      db.close();
      const key = await new KeytarKeychain().get(`audit-key:${id}`);
      expect(key).toHaveLength(32);
      const files = ['tessera.db', 'tessera.db-wal'].map((f) => readFileSync(`${terminal.home}/${f}`));
      for (const file of files) expect(file.includes(key as Buffer)).toBe(false);
    } finally {
      await terminal.close();
    }
  });

  it('is verified by the CLI, which exits non-zero on a damaged log', async () => {
    const terminal = await logWith(4);
    const home = terminal.home;
    await terminal.close();
    const good = tessera(['audit', 'verify', '--json'], { home });
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ intact: true, entries: 4, problem: null });
    const db = openDatabase(`${home}/tessera.db`);
    db.exec("UPDATE audit_log SET target = 'elsewhere' WHERE seq = 2");
    db.close();
    const bad = tessera(['audit', 'verify'], { home });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/AUDIT LOG DAMAGED: Entry 2 was altered/);
  });
});
