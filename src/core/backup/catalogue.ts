// The terminal's catalogue of the backups it wrote: found again by content (backup id and
// SHA-256), whatever drive or slot the media is in later.
import type { Sql } from '../store/database';

export interface CatalogueEntry {
  backupId: string;
  tokenSerial: string;
  tokenLabel: string;
  created: string;
  fileName: string;
  mediaLabel: string;
  sha256: string;
  size: number;
  objects: number;
  excluded: number;
  signer: string;
  backupSet: string;
  verifiedAt: string;
}

export class BackupCatalogue {
  constructor(private readonly db: Sql) {}

  add(e: CatalogueEntry): void {
    this.db
      .prepare(
        `INSERT INTO backups (backup_id, token_serial, token_label, created_at, file_name, media_label, sha256, size, objects, excluded, signer, backup_set, verified_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.backupId, e.tokenSerial, e.tokenLabel, e.created, e.fileName, e.mediaLabel, e.sha256, e.size, e.objects, e.excluded, e.signer, e.backupSet, e.verifiedAt);
  }

  list(tokenSerial?: string): CatalogueEntry[] {
    const rows = (tokenSerial
      ? this.db.prepare('SELECT * FROM backups WHERE token_serial = ? ORDER BY created_at DESC').all(tokenSerial)
      : this.db.prepare('SELECT * FROM backups ORDER BY created_at DESC').all()) as Row[];
    return rows.map(entry);
  }

  /** The catalogue entry of a backup, by its content. */
  find(backupId: string, sha256: string): CatalogueEntry | null {
    const row = this.db.prepare('SELECT * FROM backups WHERE backup_id = ? AND sha256 = ?').get(backupId, sha256) as Row | undefined;
    return row ? entry(row) : null;
  }
}

type Row = Record<string, string | number>;

function entry(r: Row): CatalogueEntry {
  return {
    backupId: String(r.backup_id),
    tokenSerial: String(r.token_serial),
    tokenLabel: String(r.token_label),
    created: String(r.created_at),
    fileName: String(r.file_name),
    mediaLabel: String(r.media_label),
    sha256: String(r.sha256),
    size: Number(r.size),
    objects: Number(r.objects),
    excluded: Number(r.excluded),
    signer: String(r.signer),
    backupSet: String(r.backup_set),
    verifiedAt: String(r.verified_at),
  };
}
