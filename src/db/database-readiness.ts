// Whether the database is ready, answered without waiting for a pooled connection.
import pg from 'pg';
import type { Clock } from '../clock/index.js';
import type { Database } from './database.js';
import type { Migration } from './migrations/index.js';

/** How recent a pool statement PostgreSQL answered must be to stand for a probe. */
export const DEFAULT_READINESS_FRESH_MS = 1_000;

/** Longest a probe waits for its connection or its answer before saying "not ready". */
export const DEFAULT_READINESS_TIMEOUT_MS = 2_000;

/** What `/readyz` reports for the database. */
export interface DatabaseReadinessResult {
  readonly ready: boolean;
  readonly reason?: string;
}

/** What {@link DatabaseReadiness} needs. */
export interface DatabaseReadinessOptions {
  /** Where the probe connects (the pool's own URL). */
  readonly url: string;
  /** The pool whose answered statements count as proof that PostgreSQL is up. */
  readonly db: Database;
  readonly migrations: readonly Migration[];
  readonly clock: Clock;
  readonly freshMs?: number;
  readonly timeoutMs?: number;
}

/**
 * The database's readiness for `/readyz`. The pool's own activity answers it while that is
 * recent: under a write burst every committed change proves PostgreSQL up, so the probe costs
 * nothing there. When the pool has been quiet (or its last statement found PostgreSQL gone),
 * one probe runs on a connection of its own, never a pooled one: a pool busy with writers
 * cannot make the server look dead, and a probe cannot take a writer's connection.
 * Concurrent checks share one probe.
 */
export class DatabaseReadiness {
  readonly #options: DatabaseReadinessOptions;
  readonly #freshMs: number;
  readonly #timeoutMs: number;
  /** When PostgreSQL last answered the pool or the probe; undefined after it was unreachable. */
  #answeredAt: number | undefined;
  /**
   * Every known migration was seen applied. Migrations are forward-only, so once true it stays
   * true for this database; the probe checks again whenever it runs.
   */
  #migrated = false;
  #client: pg.Client | undefined;
  #probe: Promise<DatabaseReadinessResult> | undefined;
  readonly #unobserve: () => void;
  #closed = false;

  constructor(options: DatabaseReadinessOptions) {
    this.#options = options;
    this.#freshMs = options.freshMs ?? DEFAULT_READINESS_FRESH_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_READINESS_TIMEOUT_MS;
    this.#unobserve = options.db.observeActivity((reachable) => {
      this.#answeredAt = reachable ? options.clock.now() : undefined;
    });
  }

  /** Ready when PostgreSQL answered recently (pool or probe) and is fully migrated. */
  check(): Promise<DatabaseReadinessResult> {
    const answeredAt = this.#answeredAt;
    if (
      this.#migrated &&
      answeredAt !== undefined &&
      this.#options.clock.now() - answeredAt <= this.#freshMs
    ) {
      return Promise.resolve({ ready: true });
    }
    this.#probe ??= this.#runProbe().finally(() => {
      this.#probe = undefined;
    });
    return this.#probe;
  }

  /** Closes the probe's connection; later checks answer "not ready". */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unobserve();
    await this.#drop();
  }

  async #runProbe(): Promise<DatabaseReadinessResult> {
    if (this.#closed) return { ready: false, reason: 'closed' };
    try {
      const client = await this.#connection();
      const result = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM schema_migrations WHERE version = ANY($1::int[])',
        [this.#options.migrations.map((m) => m.version)],
      );
      this.#answeredAt = this.#options.clock.now();
      this.#migrated = Number(result.rows[0]?.n ?? 0) === this.#options.migrations.length;
      return this.#migrated ? { ready: true } : { ready: false, reason: 'database not migrated' };
    } catch {
      this.#answeredAt = undefined;
      await this.#drop();
      return { ready: false, reason: 'database unavailable' };
    }
  }

  async #connection(): Promise<pg.Client> {
    if (this.#client !== undefined) return this.#client;
    const client = new pg.Client({
      connectionString: this.#options.url,
      connectionTimeoutMillis: this.#timeoutMs,
      query_timeout: this.#timeoutMs,
      application_name: 'hallmark-readiness',
    });
    // The session ending between probes (PostgreSQL restarted) must not crash the process:
    // the next probe connects again.
    client.on('error', () => {
      if (this.#client === client) this.#client = undefined;
    });
    await client.connect();
    if (this.#closed) {
      await client.end().catch(() => undefined);
      throw new Error('closed');
    }
    this.#client = client;
    return client;
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
