// At start: backup work a crash interrupted. A backup being written leaves no partial file; one
// interrupted after its file was complete is named, to be verified or made again; an interrupted
// restore is named, so officers run it again (it then completes without duplicating anything).
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_INTENT, type BackupIntent } from './backup';
import type { CeremonyContext } from './context';
import { RESTORE_INTENT } from './restore';

export async function recoverBackups(ctx: CeremonyContext): Promise<string[]> {
  const said: string[] = [];
  for (const intent of ctx.intents.unfinished<BackupIntent>(BACKUP_INTENT)) {
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
    ctx.intents.finish(intent, 'interrupted');
    said.push(
      intent.step === 'written'
        ? `A backup was interrupted after its file was complete (${intent.data.file}), before it was read back and verified. Verify it (tessera backup verify) or back up again.`
        : `A backup was interrupted while it was written. ${removed ? 'Its partial file was removed from the media; ' : ''}no incomplete backup is left. Back up again.`,
    );
    await ctx.audit.append({ actor: ctx.actor, action: 'backup.recover', target: intent.data.partition, outcome: 'ok', details: { backupId: intent.data.backupId, step: intent.step, partialRemoved: removed } });
  }
  return said;
}

export async function recoverRestores(ctx: CeremonyContext): Promise<string[]> {
  const said: string[] = [];
  for (const intent of ctx.intents.unfinished<{ backupId: string; file: string; target: string }>(RESTORE_INTENT)) {
    ctx.intents.finish(intent, 'interrupted');
    said.push(`A restore of backup ${intent.data.backupId} into the partition with serial ${intent.data.target} was interrupted. Run it again: what was restored already is recognised and not duplicated.`);
    await ctx.audit.append({ actor: ctx.actor, action: 'backup.restore.recover', target: intent.data.target, outcome: 'ok', details: { backupId: intent.data.backupId } });
  }
  return said;
}
