// What ceremonies work with: the chosen partition, the cards, the terminal's records and log, the
// SO session, the backup catalogue, and the trusted card sets. Built once by the terminal.
import type { AuditLog } from '../audit/audit-log';
import type { BackupCatalogue } from '../backup/catalogue';
import type { ReaderMonitor } from '../cards/reader-monitor';
import type { TrashBinStore } from '../keys/trash-bin';
import type { PartitionService } from '../partition/partition-service';
import type { PolicyStore } from '../policy/policy-record';
import type { PolicyService } from '../policy/policy-service';
import type { Purpose } from '../quorum/card-set';
import type { CardSetStore } from '../quorum/card-set-store';
import type { SoSession } from '../quorum/so-session';
import type { Trust } from '../quorum/trust';
import type { IntentLog } from '../store/intents';

export interface CeremonyContext {
  partition: PartitionService;
  readers: ReaderMonitor;
  store: CardSetStore;
  intents: IntentLog;
  audit: AuditLog;
  so: SoSession;
  catalogue: BackupCatalogue;
  /** The partition policy in force, and its refusals. */
  policy: PolicyService;
  /** The database copies of policy versions (a policy change records its own). */
  policies: PolicyStore;
  /** The database half of the trash bin. */
  trash: TrashBinStore;
  /** Folders shown as media besides removable drives (the training lab's stand-in). */
  mediaStandIns: string[];
  /** Who acts, as the audit log records it, until officers are identified by their cards. */
  actor: string;
  /** The chosen partition's card set of `purpose`; null when it has none (see quorum/trust.ts). */
  trust(purpose: Purpose): Trust | null;
}

/** How a front end answers: the GUI lets a wrong card PIN be typed again; the CLI (--pins-from) skips the card. */
export interface RunOptions {
  retryWrongPin: boolean;
}
