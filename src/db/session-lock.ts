// Leadership across replicas: a session-level advisory lock held on a connection of its own.
import pg from 'pg';
import type { Queryable } from './database.js';

/**
 * A held advisory lock. PostgreSQL releases a session lock when its connection ends, so the
 * holder's death (or its lost connection) frees it for another replica; statements that must
 * only run while the lock is held go through {@link query}, which fails once it is lost.
 */
export class SessionLock implements Queryable {
  #lost = false;

  private constructor(private readonly client: pg.Client) {
    client.on('error', () => {
      this.#lost = true;
    });
    client.on('end', () => {
      this.#lost = true;
    });
  }

  /**
   * Takes lock `(space, id)` (the two-key form, apart from the one-key `ADVISORY_LOCKS`)
   * without waiting; undefined when another session holds it or the database is unreachable.
   */
  static async tryAcquire(
    url: string,
    space: number,
    id: number,
  ): Promise<SessionLock | undefined> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const result = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS ok',
        [space, id],
      );
      if (result.rows[0]?.ok === true) return new SessionLock(client);
    } catch {
      // unreachable: the caller tries again later
    }
    await client.end().catch(() => undefined);
    return undefined;
  }

  /** True once the connection (and with it the lock) is gone. */
  get lost(): boolean {
    return this.#lost;
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.client.query<R>(text, values);
  }

  /** Ends the connection, which releases the lock. */
  async release(): Promise<void> {
    this.#lost = true;
    await this.client.end().catch(() => undefined);
  }
}
