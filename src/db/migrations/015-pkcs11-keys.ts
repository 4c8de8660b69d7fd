// Migration 15: signing keys held in a PKCS#11 token; a key row is sealed or token-held, never both.
export const pkcs11Keys = {
  version: 15,
  name: 'pkcs11-keys',
  sql: `
    -- pkcs11_id: the key's id in the token (its CKA_ID is '<kind>:<pkcs11_id>'), set while the
    -- token holds the private key. A prepared or active key has exactly one of a sealed key or
    -- a token key. Retirement wipes a sealed key at once; a token key stays until the row is
    -- dropped (every token it signed has expired), and distrust destroys either at once.
    ALTER TABLE token_signing_keys ADD COLUMN pkcs11_id text;
    ALTER TABLE token_signing_keys DROP CONSTRAINT token_signing_keys_check;
    ALTER TABLE token_signing_keys ADD CONSTRAINT token_signing_keys_check CHECK (
      NOT (sealed_private_key IS NOT NULL AND pkcs11_id IS NOT NULL)
      AND (status NOT IN ('prepared', 'active') OR sealed_private_key IS NOT NULL OR pkcs11_id IS NOT NULL)
      AND (status IN ('prepared', 'active') OR sealed_private_key IS NULL)
      AND (status <> 'distrusted' OR pkcs11_id IS NULL));
    CREATE UNIQUE INDEX token_signing_keys_pkcs11_id ON token_signing_keys (pkcs11_id);

    ALTER TABLE jwt_authority_keys ADD COLUMN pkcs11_id text;
    ALTER TABLE jwt_authority_keys DROP CONSTRAINT jwt_authority_keys_check;
    ALTER TABLE jwt_authority_keys ADD CONSTRAINT jwt_authority_keys_check CHECK (
      NOT (sealed_private_key IS NOT NULL AND pkcs11_id IS NOT NULL)
      AND (status NOT IN ('prepared', 'active') OR sealed_private_key IS NOT NULL OR pkcs11_id IS NOT NULL)
      AND (status IN ('prepared', 'active') OR sealed_private_key IS NULL)
      AND (status <> 'distrusted' OR pkcs11_id IS NULL));
    CREATE UNIQUE INDEX jwt_authority_keys_pkcs11_id ON jwt_authority_keys (pkcs11_id);

    -- CAs: an old CA keeps a sealed key (as before) or its token key until its certificate
    -- expires, when the token key is destroyed (pkcs11_id set back to NULL, the row kept:
    -- issued_certificates references it). A distrusted CA has neither.
    ALTER TABLE ca_authorities ADD COLUMN pkcs11_id text;
    ALTER TABLE ca_authorities DROP CONSTRAINT ca_authorities_distrust_check;
    ALTER TABLE ca_authorities ADD CONSTRAINT ca_authorities_distrust_check CHECK (
      (status = 'distrusted') = (distrusted_at IS NOT NULL)
      AND NOT (sealed_key IS NOT NULL AND pkcs11_id IS NOT NULL)
      AND (status NOT IN ('prepared', 'active') OR sealed_key IS NOT NULL OR pkcs11_id IS NOT NULL)
      AND (status <> 'distrusted' OR (sealed_key IS NULL AND pkcs11_id IS NULL)));
    CREATE UNIQUE INDEX ca_authorities_pkcs11_id ON ca_authorities (pkcs11_id);

    -- Audit checkpoint keys (migration 13) likewise; they are never dropped, so a retired token
    -- key stays in the token (its public JWK keeps verifying its checkpoints from the row).
    ALTER TABLE audit_checkpoint_keys ADD COLUMN pkcs11_id text;
    ALTER TABLE audit_checkpoint_keys DROP CONSTRAINT audit_checkpoint_keys_check;
    ALTER TABLE audit_checkpoint_keys ADD CONSTRAINT audit_checkpoint_keys_check CHECK (
      NOT (sealed_private_key IS NOT NULL AND pkcs11_id IS NOT NULL)
      AND (status NOT IN ('prepared', 'active') OR sealed_private_key IS NOT NULL OR pkcs11_id IS NOT NULL)
      AND (status IN ('prepared', 'active') OR sealed_private_key IS NULL)
      AND (status <> 'distrusted' OR pkcs11_id IS NULL));
    CREATE UNIQUE INDEX audit_checkpoint_keys_pkcs11_id ON audit_checkpoint_keys (pkcs11_id);
  `,
} as const;
