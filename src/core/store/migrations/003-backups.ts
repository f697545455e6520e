import type { Migration } from './index';

export const backups: Migration = {
  version: 3,
  name: 'the backup catalogue',
  sql: `
    -- Public facts of each backup this terminal wrote and verified; never a key or a label list.
    CREATE TABLE backups (
      backup_id     TEXT PRIMARY KEY,
      token_serial  TEXT NOT NULL,
      token_label   TEXT NOT NULL,
      created_at    TEXT NOT NULL,
      file_name     TEXT NOT NULL,
      media_label   TEXT NOT NULL,
      sha256        TEXT NOT NULL,
      size          INTEGER NOT NULL,
      objects       INTEGER NOT NULL,
      excluded      INTEGER NOT NULL,
      signer        TEXT NOT NULL,
      backup_set    TEXT NOT NULL,
      verified_at   TEXT NOT NULL
    ) STRICT;
    CREATE INDEX backups_by_token ON backups (token_serial, created_at);
  `,
};
