// Terminal settings: small JSON values by key. Public facts only, never a secret.
import { randomUUID } from 'node:crypto';
import type { Sql } from './database';

export class Settings {
  constructor(private readonly db: Sql) {}

  get<T>(key: string): T | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  /** A random id for this terminal's database; names its keychain entries. */
  installationId(): string {
    const existing = this.get<string>('installation.id');
    if (existing) return existing;
    const id = randomUUID();
    this.db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run('installation.id', JSON.stringify(id));
    return this.get<string>('installation.id') as string;
  }
}
