// Migration 5: versioned secrets, each version sealed under its own data key (envelope encryption).
export const secrets = {
  version: 5,
  name: 'secrets',
  sql: `
    -- One row per path: the newest version number. Its row lock serialises writers of one path,
    -- so concurrent puts get distinct, consecutive versions without retries.
    CREATE TABLE secret_heads (
      path   text PRIMARY KEY,
      latest integer NOT NULL CHECK (latest > 0)
    );
    -- Every version ever written (versions are kept). wrapped_key is the version's data key
    -- sealed by the master key; ciphertext is the value sealed by that data key; both are
    -- bound to 'secret|<path>|<version>' so rows cannot be swapped. No plaintext column.
    CREATE TABLE secret_versions (
      path        text NOT NULL REFERENCES secret_heads (path) ON DELETE CASCADE,
      version     integer NOT NULL CHECK (version > 0),
      wrapped_key bytea NOT NULL,
      ciphertext  bytea NOT NULL,
      created_at  timestamptz NOT NULL,
      created_by  text NOT NULL,
      PRIMARY KEY (path, version)
    );
    -- deletePrefix scans by prefix: text_pattern_ops makes LIKE 'prefix%' an index range scan.
    CREATE INDEX secret_heads_prefix ON secret_heads (path text_pattern_ops);
  `,
} as const;
