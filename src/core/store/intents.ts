// The intent log of multi-step operations: a step is recorded (durably: synchronous=FULL) before it
// is taken, so that after a crash the next start knows where the operation stopped and can finish
// or roll it back. Records public facts only.
import type { Sql } from './database';

export interface Intent<T> {
  id: number;
  kind: string;
  step: string;
  data: T;
}

export class IntentLog {
  constructor(
    private readonly db: Sql,
    private readonly now: () => Date = () => new Date(),
  ) {}

  begin<T>(kind: string, step: string, data: T): Intent<T> {
    const time = this.now().toISOString();
    const { lastInsertRowid } = this.db.prepare('INSERT INTO intents (kind, step, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(kind, step, JSON.stringify(data), time, time);
    return { id: Number(lastInsertRowid), kind, step, data };
  }

  step<T>(intent: Intent<T>, step: string, data: T = intent.data): Intent<T> {
    this.db.prepare('UPDATE intents SET step = ?, data = ?, updated_at = ? WHERE id = ?').run(step, JSON.stringify(data), this.now().toISOString(), intent.id);
    return { ...intent, step, data };
  }

  finish(intent: Intent<unknown>, step: string): void {
    this.db.prepare('UPDATE intents SET step = ?, done = 1, updated_at = ? WHERE id = ?').run(step, this.now().toISOString(), intent.id);
  }

  unfinished<T>(kind: string): Intent<T>[] {
    const rows = this.db.prepare('SELECT id, kind, step, data FROM intents WHERE kind = ? AND done = 0 ORDER BY id').all(kind) as { id: number; kind: string; step: string; data: string }[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, step: r.step, data: JSON.parse(r.data) as T }));
  }
}
