// What the Backup section shows outside ceremonies: the partition's backup key set, the media a
// backup can go to, and the backups on a medium, each verified without cards.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BackupFileView, BackupSetView, BackupVerification, MediaView } from '../../shared/types';
import type { PartitionService } from '../partition/partition-service';
import { setFingerprint } from '../quorum/card-set';
import type { CardSetStore } from '../quorum/card-set-store';
import type { IntentLog } from '../store/intents';
import { TesseraError } from '../errors';
import { activeBackupSet } from './backup-set';
import type { BackupCatalogue } from './catalogue';
import { fingerprint } from './escrow';
import { FILE_EXTENSION } from './format';
import { listMedia } from './media';
import { verifyBackupFile } from './verify';

export class BackupService {
  constructor(
    private readonly partition: PartitionService,
    private readonly store: CardSetStore,
    private readonly intents: IntentLog,
    private readonly catalogue: BackupCatalogue,
    private readonly standIns: string[],
  ) {}

  backupSet(): BackupSetView | null {
    const set = activeBackupSet(this.partition, this.store, this.intents);
    if (!set) return null;
    return {
      partition: set.partition,
      set: set.set,
      m: set.m,
      n: set.n,
      holders: set.holders.map((h) => h.holder),
      created: set.created,
      signer: fingerprint(Buffer.from(set.backup.signingKey, 'base64')),
      escrow: fingerprint(Buffer.from(set.backup.escrowPublic, 'base64')),
      fingerprint: setFingerprint(set.backup),
    };
  }

  media(): Promise<MediaView[]> {
    return listMedia(this.standIns);
  }

  /** Backups on a medium the terminal offers (not any folder: the renderer names only those). */
  async files(media: string): Promise<BackupFileView[]> {
    await this.requireOffered(media, 'media');
    const names = (await readdir(media)).filter((n) => n.endsWith(FILE_EXTENSION)).sort().reverse();
    let own: string | null;
    try {
      own = this.backupSet()?.fingerprint ?? null;
    } catch {
      own = null; // records in conflict: said where backups are made or restored
    }
    const out: BackupFileView[] = [];
    for (const name of names) {
      const verification = await verifyBackupFile(join(media, name));
      const b = verification.backup;
      out.push({ name, verification, catalogued: b !== null && verification.sha256 !== null && this.catalogue.find(b.backupId, verification.sha256) !== null, ownSet: own === null || !b ? null : b.setFingerprint === own });
    }
    return out;
  }

  /** Verifies a backup on an offered medium. */
  async verify(file: string): Promise<BackupVerification> {
    await this.requireOffered(file, 'file');
    return verifyBackupFile(file);
  }

  /**
   * The window may name only media the terminal offers (and files directly on them): a
   * compromised renderer must not make the terminal write or read anywhere else.
   */
  async requireOffered(path: string, kind: 'media' | 'file'): Promise<void> {
    const media = await this.media();
    const ok = kind === 'media' ? media.some((m) => m.path === path) : media.some((m) => dirname(path) === m.path && basename(path).endsWith(FILE_EXTENSION));
    if (!ok) throw new TesseraError('MEDIA_ERROR', kind === 'media' ? 'That medium is not mounted any more. Insert it again.' : 'That file is not a backup on a medium the terminal offers.');
  }
}
