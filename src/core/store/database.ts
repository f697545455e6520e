// The only file that imports better-sqlite3. Opens the terminal's database in WAL mode with
// synchronous=FULL (every commit is on disk before the call returns: the audit log and the intent
// log must survive a power cut) and brings the schema up to date with numbered migrations.
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from '../errors';
import { migrations } from './migrations';

export type Sql = BetterSqlite3.Database;

export function openDatabase(file: string): Sql {
  let db: Sql;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    db = new BetterSqlite3(file);
  } catch (error) {
    throw new TesseraError('STORE_ERROR', `The terminal cannot open its database at ${file}.`, error instanceof Error ? error.message : String(error));
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Sql): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new TesseraError('STORE_ERROR', 'This database was written by a newer version of Tessera. Use that version, or another TESSERA_HOME.', `schema ${current} > ${latest}`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
