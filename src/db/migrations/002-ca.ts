// Migration 2: certificate authorities (rotation journal), bundle sequence, issued certificates.
export const certificateAuthority = {
  version: 2,
  name: 'certificate-authority',
  sql: `
    -- One row per CA key pair. status moves prepared -> active -> old, never back (SPIRE's
    -- journal); old CAs stay in the bundle until they expire so SVIDs they signed verify.
    CREATE TABLE ca_authorities (
      id            bigserial PRIMARY KEY,
      status        text NOT NULL CHECK (status IN ('prepared', 'active', 'old')),
      key_type      text NOT NULL,
      cert_pem      text NOT NULL,
      chain_pem     text NOT NULL DEFAULT '',
      sealed_key    bytea NOT NULL,
      not_before    timestamptz NOT NULL,
      not_after     timestamptz NOT NULL,
      created_at    timestamptz NOT NULL,
      activated_at  timestamptz
    );
    CREATE UNIQUE INDEX ca_authorities_one_active ON ca_authorities (status) WHERE status = 'active';
    CREATE UNIQUE INDEX ca_authorities_one_prepared ON ca_authorities (status) WHERE status = 'prepared';
    -- spiffe_sequence of the bundle: bumped on every change of the set of published keys.
    CREATE TABLE bundle_state (
      id       boolean PRIMARY KEY DEFAULT true CHECK (id),
      sequence  bigint NOT NULL,
      published text NOT NULL DEFAULT ''
    );
    INSERT INTO bundle_state (id, sequence) VALUES (true, 0);
    CREATE TABLE issued_certificates (
      serial                 text PRIMARY KEY,
      spiffe_id              text NOT NULL,
      ca_id                  bigint NOT NULL REFERENCES ca_authorities (id),
      not_after              timestamptz NOT NULL,
      public_key_fingerprint text NOT NULL,
      issued_at              timestamptz NOT NULL,
      -- The attested workload, so login can re-check it without trusting the certificate.
      namespace              text,
      service_account        text,
      pod_name               text,
      pod_uid                text
    );
    CREATE INDEX issued_certificates_spiffe_id ON issued_certificates (spiffe_id);
  `,
} as const;
