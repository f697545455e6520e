import type { Migration } from './index';

export const cardSets: Migration = {
  version: 2,
  name: 'card sets, their cards, the intent log, SO login failures',
  sql: `
    -- Public facts only: the descriptor (holders, share hashes, credential commitment), never a share.
    CREATE TABLE card_sets (
      set_id          TEXT NOT NULL,
      generation      INTEGER NOT NULL,
      purpose         TEXT NOT NULL,
      token_serial    TEXT NOT NULL,
      token_label     TEXT NOT NULL,
      m               INTEGER NOT NULL,
      n               INTEGER NOT NULL,
      descriptor      TEXT NOT NULL,
      descriptor_hash TEXT NOT NULL,
      state           TEXT NOT NULL CHECK (state IN ('active', 'retired', 'abandoned')),
      created_at      TEXT NOT NULL,
      PRIMARY KEY (set_id, generation)
    ) STRICT;
    CREATE INDEX card_sets_by_token ON card_sets (token_serial, purpose, state);

    CREATE TABLE set_cards (
      set_id      TEXT NOT NULL,
      generation  INTEGER NOT NULL,
      idx         INTEGER NOT NULL,
      holder      TEXT NOT NULL,
      card_serial TEXT,
      last_used   TEXT,
      PRIMARY KEY (set_id, generation, idx),
      FOREIGN KEY (set_id, generation) REFERENCES card_sets (set_id, generation)
    ) STRICT;

    -- Multi-step changes: each step is recorded before it is taken, so a restart can finish or
    -- roll back. data holds public facts only.
    CREATE TABLE intents (
      id         INTEGER PRIMARY KEY,
      kind       TEXT NOT NULL,
      step       TEXT NOT NULL,
      data       TEXT NOT NULL,
      done       INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) STRICT;

    -- The terminal's own count of SO logins the HSM refused (SoftHSM2 does not lock; HSMs do).
    CREATE TABLE so_login_failures (
      token_serial TEXT PRIMARY KEY,
      failures     INTEGER NOT NULL
    ) STRICT;
  `,
};
