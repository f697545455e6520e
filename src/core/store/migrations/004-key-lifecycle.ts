import type { Migration } from './index';

export const keyLifecycle: Migration = {
  version: 4,
  name: 'the partition policy and the trash bin',
  sql: `
    -- Every version of each partition's policy this terminal recorded or learned: the signed record
    -- as the partition holds it (quorum-signed, so it proves itself), never a secret.
    CREATE TABLE policies (
      token_serial  TEXT NOT NULL,
      version       INTEGER NOT NULL,
      record        TEXT NOT NULL,
      recorded_at   TEXT NOT NULL,
      PRIMARY KEY (token_serial, version)
    ) STRICT;
    -- Keys invalidated through this terminal (or seen in a partition's trash bin): what they were
    -- (usage attributes exactly), who invalidated them and when, and how it ended.
    CREATE TABLE invalidated_keys (
      token_serial    TEXT NOT NULL,
      key_id          TEXT NOT NULL,
      invalidated_at  TEXT NOT NULL,
      record          TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('invalidated', 'reactivated', 'destroyed', 'gone')),
      settled_at      TEXT,
      settled_by      TEXT,
      PRIMARY KEY (token_serial, key_id, invalidated_at)
    ) STRICT;
  `,
};
