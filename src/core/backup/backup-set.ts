// Which backup key set the chosen partition has: the terminal's record, checked against the
// partition's anchor; without a record, the descriptor the anchor carries, checked by its hash.
import { TesseraError } from '../errors';
import type { PartitionService } from '../partition/partition-service';
import { type BackupKeys, type CardSetDescriptor, descriptorHash } from '../quorum/card-set';
import type { CardSetStore } from '../quorum/card-set-store';

export type BackupSet = CardSetDescriptor & { backup: BackupKeys };

export function activeBackupSet(partition: PartitionService, store: CardSetStore): BackupSet | null {
  const token = partition.partition();
  const anchors = partition.anchors('backup');
  if (anchors.length > 1) throw new TesseraError('BACKUP_INVALID', 'The partition holds more than one backup-set record. This needs investigation before any backup.', `${anchors.length} anchors`);
  const anchor = anchors[0];
  const known = store.active(token.serial, 'backup');
  if (known) {
    if (!anchor || anchor.set !== known.set || anchor.descriptor !== descriptorHash(known)) {
      throw new TesseraError('BACKUP_INVALID', 'The partition\'s backup-set record differs from this terminal\'s. Nothing is backed up until this is explained.');
    }
    return withKeys(known);
  }
  if (!anchor?.full) return null;
  if (descriptorHash(anchor.full) !== anchor.descriptor || anchor.full.partition.serial !== token.serial) {
    throw new TesseraError('BACKUP_INVALID', 'The partition\'s backup-set record is inconsistent. Nothing is backed up until this is explained.');
  }
  return withKeys(anchor.full);
}

function withKeys(d: CardSetDescriptor): BackupSet {
  if (d.purpose !== 'backup' || !d.backup) throw new TesseraError('BACKUP_INVALID', 'The backup-set record is not one of a backup set.');
  return d as BackupSet;
}
