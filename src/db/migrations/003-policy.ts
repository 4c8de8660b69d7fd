// Migration 3: versioned policy documents; the highest version is the one in force.
export const policy = {
  version: 3,
  name: 'policy',
  sql: `
    CREATE TABLE policies (
      version    integer PRIMARY KEY,
      document   text NOT NULL,
      sha256     text NOT NULL,
      loaded_at  timestamptz NOT NULL,
      loaded_by  text NOT NULL
    );
  `,
} as const;
