// Migration 7: JWT authorities, the keys that sign JWT-SVIDs (rotation journal, sealed private keys).
export const jwtSvid = {
  version: 7,
  name: 'jwt-svid',
  sql: `
    -- One row per JWT authority; status moves prepared -> active -> retired, never back. Every
    -- row is published in the SPIFFE bundle (a prepared key before it signs, a retired one until
    -- its last JWT-SVID has expired). The private key is sealed under the master key and wiped
    -- when the key retires; the row is deleted once nothing it signed can still be valid.
    CREATE TABLE jwt_authority_keys (
      kid                text PRIMARY KEY,
      alg                text NOT NULL CHECK (alg IN ('RS256', 'RS384', 'RS512', 'ES256', 'ES384',
                                                      'ES512', 'PS256', 'PS384', 'PS512')),
      status             text NOT NULL CHECK (status IN ('prepared', 'active', 'retired')),
      public_jwk         jsonb NOT NULL,
      sealed_private_key bytea,
      created_at         timestamptz NOT NULL,
      activated_at       timestamptz,
      retired_at         timestamptz,
      CHECK ((status = 'retired') = (sealed_private_key IS NULL))
    );
    CREATE UNIQUE INDEX jwt_authority_keys_one_active ON jwt_authority_keys (status)
      WHERE status = 'active';
    CREATE UNIQUE INDEX jwt_authority_keys_one_prepared ON jwt_authority_keys (status)
      WHERE status = 'prepared';
  `,
} as const;
