// Applies pending migrations under an advisory lock so concurrent servers migrate exactly once.
import type { Database } from './database.js';
import { ADVISORY_LOCKS } from './locks.js';
import type { Migration } from './migrations/index.js';
import { HallmarkError } from '../errors/index.js';

/**
 * Applies every migration not yet recorded in `schema_migrations`, all in one transaction
 * holding a transaction-scoped advisory lock: a second server blocks until the first commits,
 * then sees the schema complete and applies nothing. Returns the versions applied here.
 */
export async function migrate(db: Database, migrations: readonly Migration[]): Promise<number[]> {
  try {
    return await db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.migrations]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const applied = new Set(done.rows.map((row) => row.version));
      const ran: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        ran.push(migration.version);
      }
      return ran;
    });
  } catch (cause) {
    if (cause instanceof HallmarkError) throw cause;
    throw new HallmarkError('ERR_DB_MIGRATION_FAILED', { cause, detail: (cause as Error).message });
  }
}

/** True when every known migration is recorded (used by `/readyz`). */
export async function isFullyMigrated(
  db: Database,
  migrations: readonly Migration[],
): Promise<boolean> {
  const result = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM schema_migrations WHERE version = ANY($1::int[])',
    [migrations.map((m) => m.version)],
  );
  return Number(result.rows[0]?.n ?? 0) === migrations.length;
}
