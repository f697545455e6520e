// The chosen partition's card sets as the terminal knows them: which set of each purpose the cards
// are checked against (trust.ts), and the SO set as the Cards section shows it (holders, card
// serials, last use).
import type { CardSetView } from '../../shared/types';
import type { AuditLog } from '../audit/audit-log';
import type { PartitionService } from '../partition/partition-service';
import type { IntentLog } from '../store/intents';
import type { Purpose } from './card-set';
import type { CardSetStore } from './card-set-store';
import { soRefusals } from './so-refusals';
import { type Trust, trustedSet } from './trust';

export class CardSets {
  constructor(
    private readonly partition: PartitionService,
    private readonly store: CardSetStore,
    private readonly intents: IntentLog,
    private readonly audit: AuditLog,
  ) {}

  /** The set of `purpose` cards are checked against; null when there is none (see trustedSet). */
  trust(purpose: Purpose): Trust | null {
    return trustedSet(this.partition, this.store, this.intents, purpose);
  }

  /** The SO card set of the chosen partition, or null before adoption. */
  view(): CardSetView | null {
    const trust = this.trust('so');
    if (!trust) return null;
    const d = trust.descriptor;
    const cards = d ? this.store.cards(d.set, d.generation) : [];
    const token = this.partition.partition();
    return {
      partition: { label: token.label, serial: token.serial },
      set: trust.trusted.set,
      generation: trust.trusted.generation,
      m: d?.m ?? 0,
      n: d?.n ?? 0,
      created: d?.created ?? '',
      source: trust.source === 'partition' ? 'partition' : 'terminal',
      refusedLogins: soRefusals(this.audit, this.store, token).count,
      cards: d ? d.holders.map((h) => ({ index: h.index, holder: h.holder, card: cards.find((c) => c.index === h.index)?.cardSerial ?? null, lastUsed: cards.find((c) => c.index === h.index)?.lastUsed ?? null })) : [],
    };
  }
}
