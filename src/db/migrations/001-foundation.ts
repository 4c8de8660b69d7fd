// Migration 1: the audit chain, its head, and API-key identities (the admin key first).
export const foundation = {
  version: 1,
  name: 'foundation',
  sql: `
    CREATE TABLE audit_log (
      seq        bigint PRIMARY KEY,
      time       timestamptz NOT NULL,
      actor      text NOT NULL,
      action     text NOT NULL,
      target     text NOT NULL,
      outcome    text NOT NULL,
      reason     text NOT NULL,
      request_id text NOT NULL,
      prev_hash  text NOT NULL,
      hash       text NOT NULL
    );
    -- The head is updated in the same transaction as every append, so truncating the tail of
    -- the chain is detected by 'audit verify' like any other edit.
    CREATE TABLE audit_head (
      id   boolean PRIMARY KEY DEFAULT true CHECK (id),
      seq  bigint NOT NULL,
      hash text NOT NULL
    );
    CREATE TABLE api_keys (
      id          text PRIMARY KEY,
      key_hash    bytea NOT NULL,
      role        text NOT NULL CHECK (role IN ('admin', 'app')),
      created_at  timestamptz NOT NULL,
      revoked_at  timestamptz
    );
  `,
} as const;
