// Migration 4: access-token signing keys (rotation journal) and the identity revocation list.
export const authentication = {
  version: 4,
  name: 'authentication',
  sql: `
    -- One row per ES256 signing key; status moves prepared -> active -> retired, never back.
    -- The private key is sealed under the master key and wiped when the key retires (it only
    -- verifies from then on); the row is deleted once every token it signed has expired.
    CREATE TABLE token_signing_keys (
      kid                text PRIMARY KEY,
      status             text NOT NULL CHECK (status IN ('prepared', 'active', 'retired')),
      public_jwk         jsonb NOT NULL,
      sealed_private_key bytea,
      created_at         timestamptz NOT NULL,
      activated_at       timestamptz,
      retired_at         timestamptz,
      CHECK ((status = 'retired') = (sealed_private_key IS NULL))
    );
    CREATE UNIQUE INDEX token_signing_keys_one_active ON token_signing_keys (status)
      WHERE status = 'active';
    CREATE UNIQUE INDEX token_signing_keys_one_prepared ON token_signing_keys (status)
      WHERE status = 'prepared';
    -- Every access token issued to an identity at or before revoked_at is refused. Rows older
    -- than the longest token lifetime protect nothing any more and are pruned.
    CREATE TABLE revocations (
      identity   text PRIMARY KEY,
      revoked_at timestamptz NOT NULL,
      actor      text NOT NULL
    );
  `,
} as const;
