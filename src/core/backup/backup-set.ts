// The chosen partition's backup key set, as backups need it: its descriptor with the escrow key's
// public half and the backup-signing key (the trusted-set lookup itself is the card sets' own).
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import type { BackupKeys, CardSetDescriptor } from '../quorum/card-set';
import type { CardSetStore } from '../quorum/card-set-store';
import { trustedSet } from '../quorum/trust';
import type { IntentLog } from '../store/intents';

export type BackupSet = CardSetDescriptor & { backup: BackupKeys };

/**
 * The partition's backup key set, or null when it has none.
 * @throws TesseraError BACKUP_INVALID when the records disagree or the record is not a backup set's.
 */
export function activeBackupSet(partition: PartitionService, store: CardSetStore, intents: IntentLog): BackupSet | null {
  const d = trustedSet(partition, store, intents, 'backup')?.descriptor;
  if (!d) return null;
  if (d.purpose !== 'backup' || !d.backup) throw new TesseraError('BACKUP_INVALID', 'The backup-set record is not one of a backup set.');
  return d as BackupSet;
}
