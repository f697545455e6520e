import type { Migration } from './index';

export const initial: Migration = {
  version: 1,
  name: 'settings and audit log',
  sql: `
    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    -- Hash-chained and keyed: mac = HMAC(audit key, entry fields || prev_mac). See audit/chain.ts.
    CREATE TABLE audit_log (
      seq      INTEGER PRIMARY KEY,
      time     TEXT NOT NULL,
      actor    TEXT NOT NULL,
      action   TEXT NOT NULL,
      target   TEXT NOT NULL,
      outcome  TEXT NOT NULL,
      details  TEXT NOT NULL,
      prev_mac BLOB NOT NULL,
      mac      BLOB NOT NULL
    ) STRICT;
  `,
};
