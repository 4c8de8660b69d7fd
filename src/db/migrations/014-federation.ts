// Migration 14: SPIFFE federation, one row per foreign trust domain the policy federates with.
export const federation = {
  version: 14,
  name: 'federation',
  sql: `
    -- The bundle kept for each foreign trust domain and the state of its bundle endpoint. A
    -- row appears when the policy names the trust domain (with the operator's bootstrap
    -- bundle for https_spiffe, else no bundle until the first fetch) and is deleted when the
    -- policy stops naming it. The bundle is replaced only by a newer one (spiffe_sequence never
    -- goes backwards), or by a new bootstrap bundle from the operator.
    CREATE TABLE federated_bundles (
      trust_domain     text PRIMARY KEY,
      document         jsonb,
      sequence         bigint,
      source           text CHECK (source IN ('bootstrap', 'endpoint')),
      bootstrap_sha256 text,
      updated_at       timestamptz,
      refresh_after    timestamptz NOT NULL,
      failures         integer NOT NULL DEFAULT 0,
      last_success_at  timestamptz,
      last_error_at    timestamptz,
      last_error       text,
      CHECK ((document IS NULL) = (source IS NULL)),
      CHECK (sequence IS NULL OR document IS NOT NULL)
    );
  `,
} as const;
