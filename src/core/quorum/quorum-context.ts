// What the quorum ceremonies work with: the chosen partition, the cards, the terminal's records.
import type { ReaderMonitor } from '../cards/reader-monitor';
import type { AuditLog } from '../audit/audit-log';
import type { PartitionService } from '../partition/partition-service';
import type { IntentLog } from '../store/intents';
import type { CardSetDescriptor } from './card-set';
import type { CardSetStore } from './card-set-store';
import type { TrustedSet } from './card-record';

export interface AdoptIntent {
  descriptor: CardSetDescriptor;
  cards: Record<string, string>;
}

export interface Trust {
  trusted: TrustedSet;
  /** Known when the terminal recorded the set; learned from the first matching card otherwise. */
  descriptor: CardSetDescriptor | null;
  source: 'terminal' | 'partition' | 'interrupted';
}

export interface QuorumContext {
  partition: PartitionService;
  readers: ReaderMonitor;
  store: CardSetStore;
  intents: IntentLog;
  audit: AuditLog;
  actor: string;
  /** The card set of the chosen partition that cards are checked against; null when there is none. */
  trust(): Trust | null;
  /** Called once a quorum logged the SO in. */
  soLoggedIn(holders: string[], descriptor: CardSetDescriptor, cards: Map<number, string>): Promise<void>;
  /** Called when the HSM refused a verified credential; returns what officers should be told, if anything. */
  soLoginRefused(descriptor: CardSetDescriptor): Promise<string | null>;
}
