// Schema migrations, applied in order; `version` is stored in PRAGMA user_version.
import { initial } from './001-initial';
import { cardSets } from './002-card-sets';
import { backups } from './003-backups';
import { keyLifecycle } from './004-key-lifecycle';
import { auditHash } from './005-audit-hash';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [initial, cardSets, backups, keyLifecycle, auditHash];
