// The terminal's registry of card sets: public facts only (descriptors, which card serial each
// holder has, when each card was last used), and its own count of refused SO logins.
import type { Sql } from '../store/database';
import { type CardSetDescriptor, type Purpose, descriptorHash } from './card-set';

/** active: the partition's set; retired: replaced by a newer generation; abandoned: its enrolment never completed. */
export type SetState = 'active' | 'retired' | 'abandoned';

export interface SetCard {
  index: number;
  holder: string;
  cardSerial: string | null;
  lastUsed: string | null;
}

export class CardSetStore {
  constructor(private readonly db: Sql) {}

  save(descriptor: CardSetDescriptor, state: SetState, cards: Map<number, string> = new Map()): void {
    this.db
      .transaction(() => {
        this.forgetAbandoned(descriptor);
        this.db
          .prepare(
            `INSERT INTO card_sets (set_id, generation, purpose, token_serial, token_label, m, n, descriptor, descriptor_hash, state, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (set_id, generation) DO UPDATE SET state = excluded.state`,
          )
          .run(descriptor.set, descriptor.generation, descriptor.purpose, descriptor.partition.serial, descriptor.partition.label, descriptor.m, descriptor.n, JSON.stringify(descriptor), descriptorHash(descriptor), state, descriptor.created);
        for (const h of descriptor.holders) {
          this.db
            .prepare('INSERT INTO set_cards (set_id, generation, idx, holder, card_serial) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET card_serial = COALESCE(excluded.card_serial, card_serial)')
            .run(descriptor.set, descriptor.generation, h.index, h.holder, cards.get(h.index) ?? null);
        }
        if (state === 'active') {
          this.db
            .prepare("UPDATE card_sets SET state = 'retired' WHERE token_serial = ? AND purpose = ? AND state = 'active' AND NOT (set_id = ? AND generation = ?)")
            .run(descriptor.partition.serial, descriptor.purpose, descriptor.set, descriptor.generation);
        }
      })
      .immediate();
  }

  /**
   * A generation begun and rolled back, then made again (a rotation tried once more): the new
   * descriptor and its cards replace the abandoned ones. The row's key is (set, generation), and
   * an upsert that only changed the state would record the new generation with the old attempt's
   * descriptor, holders and cards, which the partition's anchor then contradicts.
   */
  private forgetAbandoned(descriptor: CardSetDescriptor): void {
    const row = this.db.prepare('SELECT state, descriptor_hash FROM card_sets WHERE set_id = ? AND generation = ?').get(descriptor.set, descriptor.generation) as { state: SetState; descriptor_hash: string } | undefined;
    if (!row || row.state !== 'abandoned' || row.descriptor_hash === descriptorHash(descriptor)) return;
    this.db.prepare('DELETE FROM set_cards WHERE set_id = ? AND generation = ?').run(descriptor.set, descriptor.generation);
    this.db.prepare('DELETE FROM card_sets WHERE set_id = ? AND generation = ?').run(descriptor.set, descriptor.generation);
  }

  active(tokenSerial: string, purpose: Purpose): CardSetDescriptor | null {
    const row = this.db.prepare("SELECT descriptor FROM card_sets WHERE token_serial = ? AND purpose = ? AND state = 'active' ORDER BY generation DESC LIMIT 1").get(tokenSerial, purpose) as { descriptor: string } | undefined;
    return row ? (JSON.parse(row.descriptor) as CardSetDescriptor) : null;
  }

  /**
   * A generation of a set this terminal recorded as the partition's (current or retired), or null:
   * the generations whose backups the partition trusts. Abandoned enrolments never count.
   */
  generation(tokenSerial: string, purpose: Purpose, set: string, generation: number): CardSetDescriptor | null {
    const row = this.db
      .prepare("SELECT descriptor FROM card_sets WHERE token_serial = ? AND purpose = ? AND set_id = ? AND generation = ? AND state IN ('active', 'retired')")
      .get(tokenSerial, purpose, set, generation) as { descriptor: string } | undefined;
    return row ? (JSON.parse(row.descriptor) as CardSetDescriptor) : null;
  }

  /** Records a set whose enrolment was cancelled or rolled back: its cards may be written again. */
  abandon(descriptor: CardSetDescriptor): void {
    // A set that was ever the partition's stays what it is: only an enrolment that never completed
    // is abandoned (an intent-log row naming a live set must not make its cards look dead).
    const row = this.db.prepare('SELECT state FROM card_sets WHERE set_id = ? AND generation = ?').get(descriptor.set, descriptor.generation) as { state: SetState } | undefined;
    if (row && row.state !== 'abandoned') return;
    this.save(descriptor, 'abandoned');
  }

  /** Whether `set` is only an enrolment that never completed (no generation of it was ever the partition's). */
  abandoned(set: string): boolean {
    return this.db.prepare("SELECT 1 FROM card_sets WHERE set_id = ? AND state = 'abandoned' AND NOT EXISTS (SELECT 1 FROM card_sets WHERE set_id = ? AND state IN ('active', 'retired'))").get(set, set) !== undefined;
  }

  /**
   * Whether this generation (this very descriptor: a generation number may be tried more than once)
   * was begun and rolled back (a rotation that never took effect).
   */
  abandonedGeneration(descriptor: CardSetDescriptor): boolean {
    return this.db.prepare("SELECT 1 FROM card_sets WHERE set_id = ? AND generation = ? AND descriptor_hash = ? AND state = 'abandoned'").get(descriptor.set, descriptor.generation, descriptorHash(descriptor)) !== undefined;
  }

  /**
   * The first generation after `generation` of `set` that no longer has the card `cardSerial` (it
   * was replaced, or its holder left the set), with its date and whether the holder is still in it;
   * null when this terminal recorded no such generation.
   */
  replacedIn(set: string, generation: number, cardSerial: string, holder: string): { generation: number; date: string; holderKept: boolean } | null {
    const rows = this.db.prepare("SELECT generation, created_at, descriptor FROM card_sets WHERE set_id = ? AND generation > ? AND state IN ('active', 'retired') ORDER BY generation").all(set, generation) as { generation: number; created_at: string; descriptor: string }[];
    for (const row of rows) {
      if (this.cards(set, row.generation).some((c) => c.cardSerial === cardSerial)) continue;
      const d = JSON.parse(row.descriptor) as CardSetDescriptor;
      return { generation: row.generation, date: row.created_at, holderKept: d.holders.some((h) => h.holder.toLowerCase() === holder.toLowerCase()) };
    }
    return null;
  }

  cards(set: string, generation: number): SetCard[] {
    const rows = this.db.prepare('SELECT idx, holder, card_serial, last_used FROM set_cards WHERE set_id = ? AND generation = ? ORDER BY idx').all(set, generation) as { idx: number; holder: string; card_serial: string | null; last_used: string | null }[];
    return rows.map((r) => ({ index: r.idx, holder: r.holder, cardSerial: r.card_serial, lastUsed: r.last_used }));
  }

  used(set: string, generation: number, index: number, cardSerial: string, when: Date): void {
    this.db.prepare('UPDATE set_cards SET last_used = ?, card_serial = COALESCE(card_serial, ?) WHERE set_id = ? AND generation = ? AND idx = ?').run(when.toISOString(), cardSerial, set, generation, index);
  }

  soFailures(tokenSerial: string): number {
    return (this.db.prepare('SELECT failures FROM so_login_failures WHERE token_serial = ?').get(tokenSerial) as { failures: number } | undefined)?.failures ?? 0;
  }

  countSoFailure(tokenSerial: string): number {
    this.db.prepare('INSERT INTO so_login_failures (token_serial, failures) VALUES (?, 1) ON CONFLICT DO UPDATE SET failures = failures + 1').run(tokenSerial);
    return this.soFailures(tokenSerial);
  }

  resetSoFailures(tokenSerial: string): void {
    this.db.prepare('DELETE FROM so_login_failures WHERE token_serial = ?').run(tokenSerial);
  }
}
