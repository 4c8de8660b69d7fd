// Migration 8: audit rows staged by state changes in their own transaction, not yet in the chain.
export const auditPending = {
  version: 8,
  name: 'audit-pending',
  sql: `
    -- A change inserts its audit row here in the change's own transaction, so the row exists
    -- exactly when the change committed. The chain extender of any replica later moves rows
    -- into audit_log (oldest id first), deleting them here in the statement that moves the
    -- head, so a row is either staged or chained, never both and never lost. time is when the
    -- change was made; seq, prev_hash and hash are assigned when the row is chained.
    CREATE TABLE audit_pending (
      id         bigserial PRIMARY KEY,
      time       timestamptz NOT NULL,
      actor      text NOT NULL,
      action     text NOT NULL,
      target     text NOT NULL,
      outcome    text NOT NULL,
      reason     text NOT NULL,
      request_id text NOT NULL
    );
  `,
} as const;
