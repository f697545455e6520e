// The audit log with the real SQLite file and the real keychain (the lab's Secret Service).
// Each kind of tampering is done directly to the database file, as an attacker with the file
// would, and must be detected and located.
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/core/audit/audit-log';
import { type AuditFields, entryHash, entryMac, genesisHash } from '../../src/core/audit/chain';
import { decodeRecord, encodeRecord, recordAccount } from '../../src/core/audit/terminal-record';
import { KeytarKeychain } from '../../src/core/keychain/keytar-keychain';
import { openDatabase } from '../../src/core/store/database';
import { Settings } from '../../src/core/store/settings';
import type { Terminal } from '../../src/core/terminal';
import type { AuditEntryView, AuditVerification } from '../../src/shared/types';
import { LAB_USER_PIN } from '../lab/lab';
import { lab, openTerminal, pkcs11Tool, tempHome, tessera } from './support';

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
      expect(await again.audit.verify()).toMatchObject({ intact: true, entries: 5, problem: null });
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

  it('gives rows of an older version their public hash at start, in order; a hash removed later is named, not refilled', async () => {
    const terminal = await logWith(4);
    const home = terminal.home;
    const hashes = (): (Buffer | null)[] => {
      const db = openDatabase(join(home, 'tessera.db'));
      try {
        return (db.prepare('SELECT hash FROM audit_log ORDER BY seq').all() as { hash: Buffer | null }[]).map((r) => r.hash);
      } finally {
        db.close();
      }
    };
    const written = hashes();
    await terminal.close();
    // As a database of the version before migration 005 holds them: no hash at all.
    tamper({ home } as Terminal, 'UPDATE audit_log SET hash = NULL');
    const upgraded = await openTerminal(home);
    try {
      expect(hashes()).toEqual(written);
      expect(await upgraded.audit.verify()).toMatchObject({ intact: true, entries: 4 });
    } finally {
      await upgraded.close();
    }
    // One hash taken away later is not refilled (only a leading run of old rows is): the check names the entry.
    tamper({ home } as Terminal, 'UPDATE audit_log SET hash = NULL WHERE seq = 3');
    const again = await openTerminal(home);
    try {
      expect((await again.audit.verify()).problem).toMatchObject({ kind: 'altered', seq: 3, message: expect.stringMatching(/public hash of entry 3/) });
    } finally {
      await again.close();
    }
  });

  it('reports a missing key instead of passing or crashing, and refuses to extend the log', async () => {
    const terminal = await logWith(2);
    try {
      const db = openDatabase(`${terminal.home}/tessera.db`);
      const id = new Settings(db).installationId();
      db.close();
      const keychain = new KeytarKeychain();
      expect(await keychain.delete(`audit-key:${id}`)).toBe(true);
      const fresh = new AuditLog(openDatabase(`${terminal.home}/tessera.db`), keychain, id, recordAccount(terminal.home));
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
    expect(JSON.parse(good.stdout)).toMatchObject({ intact: true, entries: 4, problem: null, seals: { verified: 0 } });
    const db = openDatabase(`${home}/tessera.db`);
    db.exec("UPDATE audit_log SET target = 'elsewhere' WHERE seq = 2");
    db.close();
    const bad = tessera(['audit', 'verify'], { home });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/AUDIT LOG DAMAGED: Entry 2 was altered/);
  });
});

/** The database files of a closed terminal, gone (as if deleted by hand). */
function deleteDatabase(home: string): void {
  for (const f of ['tessera.db', 'tessera.db-wal', 'tessera.db-shm']) rmSync(join(home, f), { force: true });
}

/** A closed terminal's home with `entries` entries. */
async function closedLogWith(entries: number): Promise<string> {
  const terminal = await logWith(entries);
  const home = terminal.home;
  await terminal.close();
  return home;
}

function verifyJson(home: string, extra: string[] = []): { status: number | null; result: AuditVerification; stdout: string } {
  const run = tessera(['audit', 'verify', '--json', ...extra], { home });
  return { status: run.status, result: JSON.parse(run.stdout) as AuditVerification, stdout: run.stdout };
}

describe('the record that cannot vanish or be cut', () => {
  const keychain = new KeytarKeychain();

  it('a deleted database fails verify as replaced, and the terminal starts no new chain over it', async () => {
    const home = await closedLogWith(3);
    deleteDatabase(home);
    const text = tessera(['audit', 'verify'], { home });
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/^AUDIT LOG DAMAGED: The audit log was replaced: .* that reached entry 3, but the database holds a new, empty log\./);
    const { status, result } = verifyJson(home);
    expect(status).toBe(1);
    expect(result).toMatchObject({ intact: false, entries: 0, problem: { kind: 'replaced', seq: null } });

    const terminal = await openTerminal(home);
    try {
      expect(terminal.audit.alarm?.kind).toBe('replaced');
      await terminal.partition.current();
      await expect(terminal.partition.login(Buffer.from(LAB_USER_PIN))).rejects.toMatchObject({ code: 'AUDIT_ALARM', message: expect.stringMatching(/acknowledge/) });
      await expect(terminal.audit.append({ actor: 'x', action: 'y', target: 'z', outcome: 'ok' })).rejects.toMatchObject({ code: 'AUDIT_ALARM' });
      expect(() => terminal.ceremonies.start({ kind: 'so-login' })).toThrow(/acknowledge/);
      expect(terminal.audit.list(10)).toEqual([]);
      expect(terminal.partition.view().token.loggedIn).toBe(false);
    } finally {
      await terminal.close();
    }
  });

  it('a database swapped for another terminal\'s, or for an empty one, fails verify as replaced', async () => {
    const home = await closedLogWith(4);
    const other = await closedLogWith(2);
    deleteDatabase(home);
    copyFileSync(join(other, 'tessera.db'), join(home, 'tessera.db'));
    const swapped = verifyJson(home);
    expect(swapped.status).toBe(1);
    expect(swapped.result.problem).toMatchObject({ kind: 'replaced' });
    expect(swapped.result.problem?.message).toMatch(/reached entry 4, but the database holds another log \(installation [0-9a-f-]+, 2 entries\)/);

    const empty = await closedLogWith(0);
    deleteDatabase(home);
    copyFileSync(join(empty, 'tessera.db'), join(home, 'tessera.db'));
    const emptied = verifyJson(home);
    expect(emptied.status).toBe(1);
    expect(emptied.result.problem).toMatchObject({ kind: 'replaced', message: expect.stringMatching(/a new, empty log/) });
  });

  it('a database cut short (its last entries deleted while closed) is named, and is not extended', async () => {
    const home = await closedLogWith(5);
    const db = openDatabase(join(home, 'tessera.db'));
    db.exec('DELETE FROM audit_log WHERE seq >= 4');
    db.close();
    const { status, result } = verifyJson(home);
    expect(status).toBe(1);
    expect(result.problem).toMatchObject({ kind: 'truncated', seq: 3, message: expect.stringMatching(/after entry 3 were removed: the log once reached entry 5/) });
    const terminal = await openTerminal(home);
    try {
      expect(terminal.audit.alarm).toMatchObject({ kind: 'truncated', message: expect.stringMatching(/cut.*reached entry 5/) });
      await expect(terminal.audit.append({ actor: 'x', action: 'y', target: 'z', outcome: 'ok' })).rejects.toMatchObject({ code: 'AUDIT_ALARM' });
      expect(terminal.audit.list(10).map((e) => e.seq)).toEqual([3, 2, 1]);
    } finally {
      await terminal.close();
    }
  });

  it('an undecodable keychain record fails verify, naming it, never passing', async () => {
    const home = await closedLogWith(2);
    await keychain.set(recordAccount(home), Buffer.from('{"format":"tessera-terminal-v1","installationId":'));
    const { status, result } = verifyJson(home);
    expect(status).toBe(1);
    expect(result.problem).toMatchObject({ kind: 'anchor-unreadable', message: expect.stringContaining(`account “${recordAccount(home)}”`) });
    const text = tessera(['audit', 'verify'], { home });
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/AUDIT LOG DAMAGED: .*cannot be read/);
  });

  it('an undecodable anchor of the older kind is named too, not skipped', async () => {
    const home = await closedLogWith(2);
    const db = openDatabase(join(home, 'tessera.db'));
    const id = new Settings(db).installationId();
    db.close();
    await keychain.delete(recordAccount(home));
    await keychain.set(`audit-anchor:${id}`, Buffer.from('not an anchor'));
    const { status, result } = verifyJson(home);
    expect(status).toBe(1);
    expect(result.problem).toMatchObject({ kind: 'anchor-unreadable', message: expect.stringContaining(`audit-anchor:${id}`) });
  });

  it('moves an existing terminal\'s anchor (named from its database) into the record on first start, losing nothing', async () => {
    const home = await closedLogWith(4);
    const db = openDatabase(join(home, 'tessera.db'));
    const id = new Settings(db).installationId();
    const last = db.prepare('SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer };
    db.close();
    // The keychain as the version before the record left it.
    await keychain.delete(recordAccount(home));
    await keychain.set(`audit-anchor:${id}`, Buffer.from(JSON.stringify({ seq: last.seq, mac: last.mac.toString('hex') })));

    const terminal = await openTerminal(home);
    try {
      expect(terminal.audit.alarm).toBeNull();
      expect(await keychain.get(`audit-anchor:${id}`)).toBeNull();
      const record = decodeRecord((await keychain.get(recordAccount(home))) as Buffer);
      expect(record).toMatchObject({ installationId: id, head: { seq: 4 } });
      expect(record?.head?.mac.equals(last.mac)).toBe(true);
      expect(await terminal.audit.verify()).toMatchObject({ intact: true, entries: 4 });
      await terminal.audit.append({ actor: 'officer 5', action: 'test.step', target: 'Tessera Lab', outcome: 'ok' });
      expect(await terminal.audit.verify()).toMatchObject({ intact: true, entries: 5 });
    } finally {
      await terminal.close();
    }
    // Deleted after the move, the database is caught like any other.
    deleteDatabase(home);
    expect(verifyJson(home).result.problem?.kind).toBe('replaced');
  });

  it('an officer acknowledges a replaced log with the crypto-officer PIN; the entry names the head that was lost', async () => {
    const home = await closedLogWith(3);
    const lost = decodeRecord((await keychain.get(recordAccount(home))) as Buffer);
    deleteDatabase(home);
    const wrong = tessera(['audit', 'acknowledge', '--pin-fd', '3'], { home, fds: ['not-the-pin\n'] });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/PIN is wrong/);
    const ack = tessera(['audit', 'acknowledge', '--pin-fd', '3', '--json'], { home, fds: [`${LAB_USER_PIN}\n`] });
    expect(ack.status, ack.stderr).toBe(0);
    const entries = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditEntryView[];
    expect(entries.map((e) => e.action).reverse()).toEqual(['audit.acknowledge', 'partition.login', 'audit.seal', 'partition.logout']);
    expect(entries.at(-1)?.details).toMatchObject({ problem: 'replaced', previousInstallation: lost?.installationId, previousHeadSeq: 3, previousHeadMac: lost?.head?.mac.toString('hex'), role: 'crypto officer' });
    const { status, result } = verifyJson(home, ['--token', lab.state().tokenLabel]);
    expect(status).toBe(0);
    expect(result).toMatchObject({ intact: true, entries: 4, seals: { verified: 1, through: 2 } });
    expect(JSON.stringify(entries)).not.toContain(LAB_USER_PIN);
  });
});

describe('heads sealed by the partition', () => {
  /** A terminal on a partition of its own, with one crypto-officer session that ended. */
  async function sealedSession(): Promise<{ home: string; label: string; serial: string; soPin: string }> {
    const partition = await lab.newPartition(`Audit ${Date.now().toString(36)}`);
    const terminal = await openTerminal();
    try {
      await terminal.partition.selectByLabel(partition.modulePath, partition.label);
      await terminal.audit.append({ actor: 'officer 1', action: 'test.step', target: partition.label, outcome: 'ok', details: { step: 1 } });
      await terminal.partition.login(Buffer.from(LAB_USER_PIN));
      await terminal.partition.logout();
      return { home: terminal.home, label: partition.label, serial: partition.serial, soPin: partition.soPin };
    } finally {
      await terminal.close();
    }
  }

  function auditKeyPublic(label: string): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-pub-'));
    try {
      pkcs11Tool(['--token-label', label, '--read-object', '--type', 'pubkey', '--label', 'Tessera audit key', '--output-file', join(dir, 'pub.der')]);
      return readFileSync(join(dir, 'pub.der'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('at crypto-officer logout the partition\'s audit key signs the head; the signature verifies with its public key, read independently', async () => {
    const { home, label, serial } = await sealedSession();
    const entries = JSON.parse(tessera(['audit', 'list', '--json'], { home }).stdout) as AuditEntryView[];
    expect(entries.map((e) => e.action).reverse()).toEqual(['test.step', 'partition.login', 'audit.seal', 'partition.logout']);
    const seal = entries.find((e) => e.action === 'audit.seal') as AuditEntryView;
    expect(seal).toMatchObject({ outcome: 'ok', details: { statement: 'tessera-audit-head-v2', headSeq: 2, partition: serial } });

    const spki = auditKeyPublic(label);
    expect(seal.details.key).toBe(createHash('sha256').update(spki).digest('hex'));
    expect(Buffer.from(seal.details.publicKey as string, 'base64').equals(spki)).toBe(true);
    const db = openDatabase(join(home, 'tessera.db'));
    const id = new Settings(db).installationId();
    const head = db.prepare('SELECT mac, hash FROM audit_log WHERE seq = 2').get() as { mac: Buffer; hash: Buffer };
    db.close();
    expect(seal.details.headMac).toBe(head.mac.toString('hex'));
    expect(seal.details.headHash).toBe(head.hash.toString('hex'));
    // The signed bytes, rebuilt from their documented form.
    const statement = Buffer.from(`["tessera-audit-head-v2","${id}",2,"${head.mac.toString('hex')}","${head.hash.toString('hex')}"]`);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(verify('sha256', statement, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(seal.details.signature as string, 'hex'))).toBe(true);

    const verified = verifyJson(home, ['--token', label]);
    expect(verified.status).toBe(0);
    expect(verified.result).toMatchObject({ intact: true, seals: { verified: 1, through: 2, partition: { label, serial, key: seal.details.key } } });
  });

  it('the audit private key is sensitive and never extractable, and the SO cannot sign with it', async () => {
    const { label, soPin } = await sealedSession();
    const listing = pkcs11Tool(['--token-label', label, '--login', '--pin', LAB_USER_PIN, '--list-objects', '--type', 'privkey']);
    const block = listing.split(/\n(?=Private Key Object)/).find((b) => b.includes("label:      Tessera audit key")) as string;
    expect(block).toMatch(/EC_POINT 256 bits|EC/);
    const access = /Access:\s+(.*)/.exec(block)?.[1] ?? '';
    expect(access.split(', ')).toContain('sensitive');
    expect(access.split(', ')).toContain('never extractable');
    expect(access.split(', ')).not.toContain('extractable');
    expect(/Usage:\s+(.*)/.exec(block)?.[1]).toBe('sign');
    // A security officer sees no private object, so cannot sign with it: only a crypto-officer session can seal.
    const state = lab.state();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-so-'));
    try {
      writeFileSync(join(dir, 'digest'), createHash('sha256').update('head').digest());
      const so = spawnSync('pkcs11-tool', ['--module', state.modulePath, '--token-label', label, '--session-rw', '--login', '--login-type', 'so', '--so-pin', soPin, '--sign', '--mechanism', 'ECDSA', '--label', 'Tessera audit key', '--input-file', join(dir, 'digest'), '--output-file', join(dir, 'sig')], { env: { ...process.env, SOFTHSM2_CONF: state.softhsmConf }, encoding: 'utf8' });
      expect(so.status).not.toBe(0);
      expect(`${so.stdout}${so.stderr}`).toMatch(/Private key not found/);
      expect(existsSync(join(dir, 'sig'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an entry altered before a signed head is named, also when the log\'s key was used to hide it', async () => {
    const { home } = await sealedSession();
    const db = openDatabase(join(home, 'tessera.db'));
    const id = new Settings(db).installationId();
    db.close();

    // With the database only: the chain names the entry.
    const copy = mkdtempSync(join(tmpdir(), 'tessera-home-'));
    copyFileSync(join(home, 'tessera.db'), join(copy, 'tessera.db'));
    const plain = openDatabase(join(home, 'tessera.db'));
    plain.exec("UPDATE audit_log SET target = 'elsewhere' WHERE seq = 1");
    plain.close();
    expect(verifyJson(home).result.problem).toMatchObject({ kind: 'altered', seq: 1 });

    // With the keychain too (the HMAC key): every mac (and the public hashes) from entry 1 on recomputed, the record moved.
    copyFileSync(join(copy, 'tessera.db'), join(home, 'tessera.db'));
    const key = (await new KeytarKeychain().get(`audit-key:${id}`)) as Buffer;
    const forged = openDatabase(join(home, 'tessera.db'));
    const rows = forged.prepare('SELECT * FROM audit_log ORDER BY seq').all() as (Omit<AuditFields, 'details'> & { seq: number; details: string; prev_mac: Buffer; mac: Buffer })[];
    let prev = rows[0]?.prev_mac as Buffer;
    let prevHash = genesisHash(id);
    for (const row of rows) {
      const fields = { ...row, target: row.seq === 1 ? 'elsewhere' : row.target, details: JSON.parse(row.details) as AuditFields['details'] };
      const mac = entryMac(key, fields, prev);
      const hash = entryHash(row.seq, prevHash, fields);
      forged.prepare('UPDATE audit_log SET target = ?, prev_mac = ?, mac = ?, hash = ? WHERE seq = ?').run(fields.target, prev, mac, hash, row.seq);
      prev = mac;
      prevHash = hash;
    }
    forged.close();
    await new KeytarKeychain().set(recordAccount(home), encodeRecord({ installationId: id, head: { seq: rows.length, mac: prev } }));
    const hidden = verifyJson(home);
    expect(hidden.status).toBe(1);
    expect(hidden.result.problem).toMatchObject({ kind: 'seal-broken', seq: 2, message: expect.stringMatching(/not the ones the partition sealed in entry 3: an entry from 1 to 2 was altered/) });
  });

  it('seals forged with another key pass only the log\'s own check: against the partition they fail', async () => {
    const { home, label } = await sealedSession();
    const db = openDatabase(join(home, 'tessera.db'));
    const id = new Settings(db).installationId();
    const key = (await new KeytarKeychain().get(`audit-key:${id}`)) as Buffer;
    const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as (Omit<AuditFields, 'details'> & { seq: number; details: string; prev_mac: Buffer; mac: Buffer })[];
    // An attacker with the database and the keychain re-signs the seal with a key of their own.
    const own = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = own.publicKey.export({ format: 'der', type: 'spki' });
    let prev = rows[0]?.prev_mac as Buffer;
    let prevHash = genesisHash(id);
    for (const row of rows) {
      const details = JSON.parse(row.details) as AuditFields['details'];
      if (row.action === 'audit.seal') {
        const statement = Buffer.from(JSON.stringify(['tessera-audit-head-v2', id, details.headSeq, details.headMac, details.headHash]));
        Object.assign(details, { key: createHash('sha256').update(spki).digest('hex'), publicKey: spki.toString('base64'), signature: sign('sha256', statement, { key: own.privateKey, dsaEncoding: 'ieee-p1363' }).toString('hex') });
      }
      const mac = entryMac(key, { ...row, details }, prev);
      const hash = entryHash(row.seq, prevHash, { ...row, details });
      db.prepare('UPDATE audit_log SET details = ?, prev_mac = ?, mac = ?, hash = ? WHERE seq = ?').run(JSON.stringify(details), prev, mac, hash, row.seq);
      prev = mac;
      prevHash = hash;
    }
    db.close();
    await new KeytarKeychain().set(recordAccount(home), encodeRecord({ installationId: id, head: { seq: rows.length, mac: prev } }));
    expect(verifyJson(home).status).toBe(0);
    const against = verifyJson(home, ['--token', label]);
    expect(against.status).toBe(1);
    expect(against.result.problem).toMatchObject({ kind: 'seal-broken', seq: 3, message: expect.stringMatching(/sealed by a key that is not the audit key of partition/) });
  });
});
