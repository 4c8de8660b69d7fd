// Migration 9: any rotating key may be distrusted (CAs, signing keys, JWT authorities); rows kept.
export const distrust = {
  version: 9,
  name: 'distrust',
  sql: `
    -- A CA an operator distrusted after a compromise: out of the bundle, its key wiped, SVIDs
    -- it signed refused. Its row stays (issued_certificates.ca_id references it) and says when.
    ALTER TABLE ca_authorities DROP CONSTRAINT ca_authorities_status_check;
    ALTER TABLE ca_authorities ADD CONSTRAINT ca_authorities_status_check
      CHECK (status IN ('prepared', 'active', 'old', 'distrusted'));
    ALTER TABLE ca_authorities ALTER COLUMN sealed_key DROP NOT NULL;
    ALTER TABLE ca_authorities ADD COLUMN distrusted_at timestamptz;
    ALTER TABLE ca_authorities ADD CONSTRAINT ca_authorities_distrust_check
      CHECK ((status = 'distrusted') = (sealed_key IS NULL)
         AND (status = 'distrusted') = (distrusted_at IS NOT NULL));

    -- Signing keys and JWT authorities: a distrusted key verifies nothing and is published
    -- nowhere; like a retired one it has no private key, and retired_at starts its retention.
    ALTER TABLE token_signing_keys DROP CONSTRAINT token_signing_keys_status_check;
    ALTER TABLE token_signing_keys DROP CONSTRAINT token_signing_keys_check;
    ALTER TABLE token_signing_keys ADD CONSTRAINT token_signing_keys_status_check
      CHECK (status IN ('prepared', 'active', 'retired', 'distrusted'));
    ALTER TABLE token_signing_keys ADD CONSTRAINT token_signing_keys_check
      CHECK ((status IN ('retired', 'distrusted')) = (sealed_private_key IS NULL));

    ALTER TABLE jwt_authority_keys DROP CONSTRAINT jwt_authority_keys_status_check;
    ALTER TABLE jwt_authority_keys DROP CONSTRAINT jwt_authority_keys_check;
    ALTER TABLE jwt_authority_keys ADD CONSTRAINT jwt_authority_keys_status_check
      CHECK (status IN ('prepared', 'active', 'retired', 'distrusted'));
    ALTER TABLE jwt_authority_keys ADD CONSTRAINT jwt_authority_keys_check
      CHECK ((status IN ('retired', 'distrusted')) = (sealed_private_key IS NULL));

    -- Login refuses SVIDs per CA through their issuance record.
    CREATE INDEX issued_certificates_ca_id ON issued_certificates (ca_id);
  `,
} as const;
