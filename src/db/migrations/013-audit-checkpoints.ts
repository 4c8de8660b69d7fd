// Migration 13: signed checkpoints of the audit chain, their keyring, and the archived prefix's anchor.
export const auditCheckpoints = {
  version: 13,
  name: 'audit-checkpoints',
  sql: `
    -- The audit checkpoint keyring (ES256), a standard rotating key table. A retired key's
    -- private key is wiped like any other, but its row is never dropped: checkpoints it
    -- signed must verify for as long as the audit (archives included) is kept.
    CREATE TABLE audit_checkpoint_keys (
      kid                text PRIMARY KEY,
      status             text NOT NULL CHECK (status IN ('prepared', 'active', 'retired', 'distrusted')),
      public_jwk         jsonb NOT NULL,
      sealed_private_key bytea,
      created_at         timestamptz NOT NULL,
      activated_at       timestamptz,
      retired_at         timestamptz,
      CHECK ((status IN ('retired', 'distrusted')) = (sealed_private_key IS NULL))
    );
    CREATE UNIQUE INDEX audit_checkpoint_keys_one_active ON audit_checkpoint_keys (status)
      WHERE status = 'active';
    CREATE UNIQUE INDEX audit_checkpoint_keys_one_prepared ON audit_checkpoint_keys (status)
      WHERE status = 'prepared';

    -- One signed statement per checkpoint: row seq of the chain has hash. jws is the compact
    -- JWS (ES256) whose payload carries the same seq, hash, time and kid; it is what a
    -- verifier trusts, the other columns are for queries. Written only in seq order.
    CREATE TABLE audit_checkpoints (
      seq  bigint PRIMARY KEY CHECK (seq > 0),
      hash text NOT NULL,
      time timestamptz NOT NULL,
      kid  text NOT NULL,
      jws  text NOT NULL
    );

    -- Where the retained chain starts once a prefix was archived: the archived segment's last
    -- row (seq, hash), which a kept checkpoint signs. No row: the chain starts at genesis.
    CREATE TABLE audit_base (
      id   boolean PRIMARY KEY DEFAULT true CHECK (id),
      seq  bigint NOT NULL CHECK (seq > 0),
      hash text NOT NULL
    );

    -- Each sink's delivery position in the checkpoints (the seq of the last checkpoint its
    -- receiver confirmed), beside its row cursor: a checkpoint is signed after its row may
    -- already have been delivered, so it needs a position of its own.
    CREATE TABLE audit_sink_checkpoint_cursors (
      sink       text PRIMARY KEY,
      seq        bigint NOT NULL CHECK (seq >= 0),
      updated_at timestamptz NOT NULL
    );
  `,
} as const;
