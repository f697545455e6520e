import type { Migration } from './index';

export const auditHash: Migration = {
  version: 5,
  name: 'the audit log\'s public hash chain',
  sql: `
    -- The public chain beside the keyed one (audit/chain.ts entryHash): what an export's auditor
    -- recomputes without the workstation's key. Rows written before it get theirs at the next start
    -- (AuditLog.start), in order, from the rows as they are then (the keyed chain still vouches for them).
    ALTER TABLE audit_log ADD COLUMN hash BLOB;
  `,
};
