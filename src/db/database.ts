// The database handle: a pg pool, transactions, and LISTEN/NOTIFY subscriptions that survive restarts.
import pg from 'pg';
import { HallmarkError } from '../errors/index.js';

/** Minimal logger shape (pino-compatible) so this module does not depend on the HTTP layer. */
export interface DbLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * A query executor: the pool, or a client inside a transaction. A `{name, text, values}`
 * config runs as a named prepared statement (see {@link preparedStatement}).
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/**
 * A statement PostgreSQL parses and plans once per connection instead of on every call: for
 * the queries every request makes (secret reads, audit appends) planning cost as much as
 * running them. `name` must be unique across the code base and always name the same `text`.
 */
export function preparedStatement(
  name: string,
  text: string,
): (values: unknown[]) => pg.QueryConfig {
  return (values) => ({ name, text, values });
}

/** How {@link Database.transaction} begins. */
export interface TransactionOptions {
  /** `repeatable read` gives every statement the snapshot of the first (consistent reads). */
  readonly isolation?: 'read committed' | 'repeatable read';
  readonly readOnly?: boolean;
}

function beginStatement(options: TransactionOptions): string {
  const isolation =
    options.isolation === undefined ? '' : ` ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
  return `BEGIN${isolation}${options.readOnly === true ? ' READ ONLY' : ''}`;
}

/** Called with a payload on NOTIFY, or with `undefined` after a reconnect (state may be stale). */
export type NotifyHandler = (payload: string | undefined) => void;

// SQLSTATE classes 08 (connection), 57P (operator intervention: shutdown) and 53 (resources)
// mean "the database is not available", which callers see as 503, never as a wrong answer.
const UNAVAILABLE_SQLSTATE = /^(08|57P0|53)/;
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** True for errors that mean PostgreSQL could not be reached or went away. */
export function isUnavailableError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (
    typeof e.code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))
  )
    return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|connection timeout|Client has encountered a connection error|Connection terminated unexpectedly/i.test(
      e.message,
    )
  );
}

function wrap(err: unknown): unknown {
  if (err instanceof HallmarkError) return err;
  if (isUnavailableError(err)) {
    return new HallmarkError('ERR_DB_UNAVAILABLE', { cause: err, detail: (err as Error).message });
  }
  return err;
}

/**
 * Told how each pool statement or transaction ended: `true` when PostgreSQL answered (even
 * with an error of the statement), `false` when it could not be reached.
 */
export type ActivityObserver = (reachable: boolean) => void;

/** The database as the rest of Hallmark sees it. */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  readonly #url: string;
  readonly #applicationName: string | undefined;
  readonly #log: DbLogger | undefined;
  readonly #subscriptions = new Map<string, Set<NotifyHandler>>();
  /** After-commit hooks of the transactions open now, by their client. */
  readonly #commitHooks = new WeakMap<Queryable, (() => void)[]>();
  #listener: pg.Client | undefined;
  #listenerReconnect: NodeJS.Timeout | undefined;
  #listening = false;
  #closed = false;
  readonly #observers = new Set<ActivityObserver>();

  /**
   * @param options.applicationName shown in `pg_stat_activity.application_name`, so an operator
   * can tell which server process (or worker) holds a connection.
   */
  constructor(
    url: string,
    options: { max?: number; log?: DbLogger; applicationName?: string } = {},
  ) {
    this.#url = url;
    this.#applicationName = options.applicationName;
    this.#log = options.log;
    this.pool = new pg.Pool({
      connectionString: url,
      application_name: options.applicationName,
      max: options.max ?? 20,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection must not crash the process; the next query retries.
    this.pool.on('error', (err) =>
      this.#log?.warn({ err: err.message }, 'database connection lost'),
    );
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      const result = await this.pool.query<R>(text, values);
      this.#observe(true);
      return result;
    } catch (err) {
      this.#observeFailure(err);
      throw wrap(err);
    }
  }

  /** Calls `observer` after every pool statement and transaction; returns the unsubscribe. */
  observeActivity(observer: ActivityObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  #observe(reachable: boolean): void {
    for (const observer of this.#observers) observer(reachable);
  }

  /** An error PostgreSQL sent proves it reachable; one the pool made up (busy) proves nothing. */
  #observeFailure(err: unknown): void {
    if (isUnavailableError(err)) this.#observe(false);
    else if (err instanceof pg.DatabaseError) this.#observe(true);
  }

  /**
   * Runs `fn` in a transaction; rolls back on any error and rethrows it. Hooks registered with
   * {@link afterCommit} run once COMMIT has succeeded, never after a rollback.
   */
  async transaction<T>(
    fn: (client: pg.PoolClient) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.#observeFailure(err);
      throw wrap(err);
    }
    // pg-pool drops its own 'error' listener while a client is checked out, and pg emits
    // 'error' when the session ends between two statements (PostgreSQL shutting down): without
    // this listener that is an uncaught exception that kills the server. The next statement
    // then fails as unavailable (503), and the client is discarded, not pooled.
    let lost = false;
    const onLost = (): void => {
      lost = true;
    };
    client.on('error', onLost);
    let broken = false;
    const hooks: (() => void)[] = [];
    this.#commitHooks.set(client, hooks);
    try {
      await client.query(beginStatement(options));
      const result = await fn(client);
      await client.query('COMMIT');
      this.#observe(true);
      this.#commitHooks.delete(client);
      // Committed: a failing hook must not turn this into a reported failure.
      for (const hook of hooks) {
        try {
          hook();
        } catch (hookErr) {
          this.#log?.warn({ err: (hookErr as Error).message }, 'after-commit hook failed');
        }
      }
      return result;
    } catch (err) {
      broken = lost || isUnavailableError(err);
      // BEGIN was answered, so PostgreSQL was reachable unless the session broke.
      this.#observe(!broken);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw wrap(err);
    } finally {
      this.#commitHooks.delete(client);
      client.off('error', onLost);
      client.release(broken || lost ? true : undefined);
    }
  }

  /**
   * Runs `hook` once the transaction `tx` (a client {@link transaction} handed out) has
   * committed; dropped if it rolls back. Any other executor has no transaction of this
   * database open, so what it ran is already committed and `hook` runs at once.
   */
  afterCommit(tx: Queryable, hook: () => void): void {
    const hooks = this.#commitHooks.get(tx);
    if (hooks === undefined) hook();
    else hooks.push(hook);
  }

  /**
   * Subscribes to a NOTIFY channel on one dedicated connection. If that connection drops it
   * is re-established with backoff and every handler is called with `undefined`, so
   * subscribers reload state they may have missed.
   */
  async subscribe(channel: string, handler: NotifyHandler): Promise<() => void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
    let handlers = this.#subscriptions.get(channel);
    const isNew = handlers === undefined;
    if (!handlers) {
      handlers = new Set();
      this.#subscriptions.set(channel, handlers);
    }
    handlers.add(handler);
    if (this.#listener === undefined) await this.#connectListener(0);
    else if (isNew) await this.#listener.query(`LISTEN ${channel}`).catch(() => undefined);
    return () => {
      handlers?.delete(handler);
    };
  }

  async #connectListener(attempt: number): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#url,
      application_name: this.#applicationName,
      connectionTimeoutMillis: 5_000,
    });
    client.on('notification', (msg) => {
      for (const handler of this.#subscriptions.get(msg.channel) ?? []) handler(msg.payload);
    });
    const retry = (): void => {
      if (this.#closed || this.#listener !== client) return;
      this.#listener = undefined;
      this.#listening = false;
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      const delay = Math.min(5_000, 100 * 2 ** Math.min(attempt, 6));
      this.#listenerReconnect = setTimeout(() => {
        void this.#connectListener(attempt + 1);
      }, delay);
    };
    client.on('error', retry);
    client.on('end', retry);
    this.#listener = client;
    try {
      await client.connect();
      for (const channel of this.#subscriptions.keys()) await client.query(`LISTEN ${channel}`);
      this.#listening = this.#listener === client;
      if (attempt > 0) {
        this.#log?.info({ attempt }, 'database notifications restored');
        for (const handlers of this.#subscriptions.values()) for (const h of handlers) h(undefined);
      }
      attempt = 0;
    } catch (err) {
      if (attempt === 0 && this.#subscriptions.size > 0 && !this.#closed) {
        this.#log?.warn(
          { err: (err as Error).message },
          'database notifications unavailable; retrying',
        );
      }
      retry();
    }
  }

  /**
   * True while the notification connection is up and listening: a cache kept current by
   * NOTIFY may be trusted only then, since notifications sent while it is down are lost.
   */
  get listening(): boolean {
    return this.#listening;
  }

  /** Sends a NOTIFY (payload ≤ 8000 bytes, PostgreSQL's limit). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    if (this.#listenerReconnect) clearTimeout(this.#listenerReconnect);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
