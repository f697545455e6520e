// At start: backup work a crash interrupted. A backup-set creation before its anchor is rolled
// back (its cards may be written again), after it is finished; a backup being written leaves no
// partial file; an interrupted restore is named, so officers run it again (it then completes
// without duplicating what was restored).
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditLog } from '../audit/audit-log';
import { BACKUP_INTENT, type BackupIntent } from '../ceremony/backup';
import { BACKUP_SET_INTENT } from '../ceremony/backup-set';
import type { CardSetStore } from '../quorum/card-set-store';
import type { AdoptIntent } from '../quorum/quorum-context';
import type { IntentLog } from '../store/intents';

export async function recoverBackupWork(intents: IntentLog, store: CardSetStore, audit: AuditLog, actor: string): Promise<string[]> {
  const said: string[] = [];
  for (const intent of intents.unfinished<AdoptIntent>(BACKUP_SET_INTENT)) {
    const d = intent.data.descriptor;
    const target = `${d.partition.label} (serial ${d.partition.serial})`;
    if (intent.step === 'anchored') {
      store.save(d, 'active', new Map(Object.entries(intent.data.cards).map(([i, c]) => [Number(i), c])));
      intents.finish(intent, 'done');
      said.push(`Creating the backup key set of "${d.partition.label}" was interrupted after it was recorded on the partition. It is finished.`);
    } else {
      intents.finish(intent, 'rolled-back');
      store.abandon(d);
      said.push(`Creating the backup key set of "${d.partition.label}" was interrupted. It was rolled back; create it again (its cards can be reused).`);
    }
    await audit.append({ actor, action: 'backupset.create.recover', target, outcome: 'ok', details: { set: d.set, result: intent.step === 'anchored' ? 'finished' : 'rolled back' } });
  }
  for (const intent of intents.unfinished<BackupIntent>(BACKUP_INTENT)) {
    const partial = join(intent.data.media, `${intent.data.file}.partial`);
    let removed = false;
    try {
      if (existsSync(partial)) {
        unlinkSync(partial);
        removed = true;
      }
    } catch {
      // the media is not there now; the partial file never passes verification anyway
    }
    intents.finish(intent, 'interrupted');
    said.push(
      intent.step === 'written'
        ? `A backup was interrupted after its file was complete (${intent.data.file}), before it was read back and verified. Verify it (tessera backup verify) or back up again.`
        : `A backup was interrupted while it was written. ${removed ? 'Its partial file was removed from the media; ' : ''}no incomplete backup is left. Back up again.`,
    );
    await audit.append({ actor, action: 'backup.recover', target: intent.data.partition, outcome: 'ok', details: { backupId: intent.data.backupId, step: intent.step, partialRemoved: removed } });
  }
  for (const intent of intents.unfinished<{ backupId: string; file: string; target: string }>('restore')) {
    intents.finish(intent, 'interrupted');
    said.push(`A restore of backup ${intent.data.backupId} into the partition with serial ${intent.data.target} was interrupted. Run it again: what was restored already is recognised and not duplicated.`);
    await audit.append({ actor, action: 'backup.restore.recover', target: intent.data.target, outcome: 'ok', details: { backupId: intent.data.backupId } });
  }
  return said;
}
