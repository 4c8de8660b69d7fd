// The PostgreSQL secret store: one row per sealed version, one head row per path.
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { preparedStatement, WriteGate, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  LatestVersionCache,
  type CachedVersion,
  type LatestVersionCacheLimits,
} from './latest-version-cache.js';
import { secretNotFound } from './secret-path-error.js';
import type { SecretPath } from './secret-path.js';
import { validateSecretPrefix } from './secret-prefix.js';
import { openSecretCiphertext, unwrapSecretDataKey } from './secret-sealing.js';
import type {
  DeletePrefixOptions,
  PutOptions,
  SecretCounts,
  SecretStore,
  SecretVersion,
  SecretVersionRef,
} from './secret-store.js';
import { DEFAULT_MAX_SECRET_BYTES, encodeSecretValue } from './secret-value.js';
import { VersionWriter } from './version-writer.js';

interface VersionRow {
  path: string;
  version: number;
  wrapped_key: Buffer;
  ciphertext: Buffer;
  created_at: Date;
  created_by: string;
}

/** What {@link PgSecretStore} needs. */
export interface PgSecretStoreOptions {
  db: Database;
  master: MasterKey;
  clock: Clock;
  /** Largest value in UTF-8 bytes; defaults to 65,536. */
  maxValueBytes?: number;
  /**
   * Keeps the newest sealed version of recently read paths in memory (see {@link listen});
   * defaults to {@link DEFAULT_SECRET_CACHE}. `maxBytes: 0` reads PostgreSQL every time.
   */
  cache?: LatestVersionCacheLimits;
  /** Admits writes; share one with every other writer of the process. Default: its own. */
  gate?: WriteGate;
}

/** 32 MiB of sealed versions, none older than 30 s. */
export const DEFAULT_SECRET_CACHE: LatestVersionCacheLimits = {
  maxBytes: 32 * 1024 * 1024,
  ttlMs: 30_000,
};

/** NOTIFY channel on which every replica learns which path or prefix was written or deleted. */
export const SECRETS_CHANNEL = 'hallmark_secrets';

/** A change notice: `{"path"}` after a write, `{"prefix"}` after a scope deletion. */
type SecretChange = { path: string } | { prefix: string };

function parseSecretChange(payload: string): SecretChange | undefined {
  try {
    const value = JSON.parse(payload) as { path?: unknown; prefix?: unknown };
    if (typeof value.path === 'string') return { path: value.path };
    if (typeof value.prefix === 'string') return { prefix: value.prefix };
  } catch {
    // fall through: an unreadable notice clears the whole cache
  }
  return undefined;
}

const VERSION_COLUMNS =
  'v.path, v.version, v.wrapped_key, v.ciphertext, v.created_at, v.created_by';

// The reads every secret request makes, planned once per connection.
const READ_LATEST = preparedStatement(
  'secret-read-latest',
  `SELECT ${VERSION_COLUMNS} FROM secret_heads h
     JOIN secret_versions v ON v.path = h.path AND v.version = h.latest
    WHERE h.path = $1`,
);
const READ_VERSION = preparedStatement(
  'secret-read-version',
  `SELECT ${VERSION_COLUMNS} FROM secret_versions v WHERE v.path = $1 AND v.version = $2`,
);
const READ_LATEST_MANY = preparedStatement(
  'secret-read-latest-many',
  `SELECT ${VERSION_COLUMNS} FROM secret_heads h
     JOIN secret_versions v ON v.path = h.path AND v.version = h.latest
    WHERE h.path = ANY($1::text[])`,
);

/** Escapes LIKE metacharacters: `_` is legal in paths and would otherwise match any character. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * {@link SecretStore} over PostgreSQL (migration 005).
 *
 * Reads of the newest version are served from a {@link LatestVersionCache} once {@link listen}
 * has subscribed to {@link SECRETS_CHANNEL}, and only while that subscription is up. A write
 * or deletion forgets the path here before it returns, and on other replicas when the NOTIFY
 * sent in its transaction arrives (at COMMIT; typically within milliseconds). Reads of a given
 * `version` always go to PostgreSQL.
 */
export class PgSecretStore implements SecretStore {
  readonly #db: Database;
  readonly #master: MasterKey;
  readonly #clock: Clock;
  readonly #maxValueBytes: number;
  readonly #cache: LatestVersionCache;
  readonly #gate: WriteGate;
  readonly #writer: VersionWriter;
  #listening = false;

  constructor(options: PgSecretStoreOptions) {
    this.#db = options.db;
    this.#master = options.master;
    this.#clock = options.clock;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_SECRET_BYTES;
    this.#cache = new LatestVersionCache(options.cache ?? DEFAULT_SECRET_CACHE);
    this.#gate = options.gate ?? new WriteGate();
    this.#writer = new VersionWriter({
      db: this.#db,
      gate: this.#gate,
      master: this.#master,
      clock: this.#clock,
      channel: SECRETS_CHANNEL,
    });
  }

  /**
   * Subscribes to change notices, which turns the cache on. Without it (or while the
   * notification connection is down) every read goes to PostgreSQL.
   */
  async listen(): Promise<void> {
    await this.#db.subscribe(SECRETS_CHANNEL, (payload) => {
      const change = payload === undefined ? undefined : parseSecretChange(payload);
      if (change === undefined) this.#cache.clear();
      else if ('path' in change) this.#cache.invalidate(change.path);
      else this.#cache.invalidatePrefix(change.prefix);
    });
    this.#listening = true;
  }

  /** The cache, for tests and metrics. */
  get cache(): LatestVersionCache {
    return this.#cache;
  }

  async get(path: SecretPath, version?: number): Promise<SecretVersion> {
    if (version === undefined)
      return this.#latest([path]).then((m) => m.get(path) as SecretVersion);
    const result = await this.#db.query<VersionRow>(READ_VERSION([path, version]));
    const row = result.rows[0];
    if (row === undefined) throw secretNotFound(path, version);
    return this.#openRow(row);
  }

  async getMany(paths: readonly SecretPath[]): Promise<Map<string, SecretVersion>> {
    return this.#latest(paths);
  }

  /** The newest version of every path, from the cache where it may be trusted, else one query. */
  async #latest(paths: readonly string[]): Promise<Map<string, SecretVersion>> {
    const now = this.#clock.now();
    const useCache = this.#listening && this.#db.listening;
    const found = new Map<string, CachedVersion>();
    const missing: string[] = [];
    for (const path of paths) {
      const cached = useCache ? this.#cache.get(path, now) : undefined;
      if (cached !== undefined) found.set(path, cached);
      else missing.push(path);
    }
    if (missing.length > 0) {
      const generation = this.#cache.generation;
      const result = await this.#db.query<VersionRow>(
        missing.length === 1 ? READ_LATEST(missing) : READ_LATEST_MANY([missing]),
      );
      // Every path is checked for existence before anything is opened: all or nothing.
      const rows = new Map(result.rows.map((row) => [row.path, row]));
      for (const path of paths) if (!found.has(path) && !rows.has(path)) throw secretNotFound(path);
      for (const row of rows.values()) {
        const version = this.#unwrap(row);
        found.set(row.path, version);
        if (useCache) this.#cache.fill(generation, version, now);
      }
    }
    const opened = new Map<string, SecretVersion>();
    for (const path of paths) opened.set(path, openCached(found.get(path) as CachedVersion));
    return opened;
  }

  /**
   * Writes through the write gate, concurrent writes committed together by one transaction
   * (see {@link VersionWriter}); with `options.tx`, in the caller's transaction, whose caller
   * bounds concurrency.
   */
  async put(
    path: SecretPath,
    value: string,
    actor: string,
    options: PutOptions = {},
  ): Promise<SecretVersionRef> {
    const plaintext = encodeSecretValue(value, this.#maxValueBytes);
    const write = { path, plaintext, actor, audit: options.audit };
    try {
      const { tx } = options;
      if (tx === undefined) {
        return await this.#writer.write(write).finally(() => this.#cache.invalidate(path));
      }
      const written = await this.#writer.writeIn(tx, write);
      this.#db.afterCommit(tx, () => this.#cache.invalidate(path));
      return written;
    } finally {
      plaintext.fill(0);
    }
  }

  async deletePrefix(prefix: string, options: DeletePrefixOptions = {}): Promise<SecretCounts> {
    const pattern = likePrefix(validateSecretPrefix(prefix));
    const { tx } = options;
    if (tx !== undefined) {
      const counts = await deleteUnder(tx, pattern, prefix);
      this.#db.afterCommit(tx, () => this.#cache.invalidatePrefix(prefix));
      return counts;
    }
    return this.#gate
      .run(`secret-prefix:${prefix}`, () =>
        this.#db.transaction((client) => deleteUnder(client, pattern, prefix)),
      )
      .finally(() => this.#cache.invalidatePrefix(prefix));
  }

  async count(prefix?: string): Promise<SecretCounts> {
    return countRows(
      this.#db,
      prefix === undefined ? '%' : likePrefix(validateSecretPrefix(prefix)),
    );
  }

  /** Unwraps a row's data key (fails closed with `ERR_SECRET_INTEGRITY`). */
  #unwrap(row: VersionRow): CachedVersion {
    return {
      path: row.path,
      version: row.version,
      dataKey: unwrapSecretDataKey(this.#master, row.path, row.version, row.wrapped_key),
      ciphertext: row.ciphertext,
      createdAt: row.created_at,
      createdBy: row.created_by,
    };
  }

  #openRow(row: VersionRow): SecretVersion {
    return openCached(this.#unwrap(row));
  }
}

/** Decrypts a sealed version (fails closed with `ERR_SECRET_INTEGRITY`). */
function openCached(sealed: CachedVersion): SecretVersion {
  return {
    path: sealed.path,
    version: sealed.version,
    value: openSecretCiphertext(sealed.dataKey, sealed.path, sealed.version, sealed.ciphertext),
    createdAt: sealed.createdAt,
    createdBy: sealed.createdBy,
  };
}

/** Deletes every version and head under `pattern`, announcing `prefix` at COMMIT. */
async function deleteUnder(tx: Queryable, pattern: string, prefix: string): Promise<SecretCounts> {
  const versions = await tx.query('DELETE FROM secret_versions WHERE path LIKE $1', [pattern]);
  const heads = await tx.query('DELETE FROM secret_heads WHERE path LIKE $1', [pattern]);
  await tx.query('SELECT pg_notify($1, $2)', [SECRETS_CHANNEL, JSON.stringify({ prefix })]);
  return { paths: heads.rowCount ?? 0, versions: versions.rowCount ?? 0 };
}

async function countRows(db: Queryable, pattern: string): Promise<SecretCounts> {
  const result = await db.query<{ paths: string; versions: string }>(
    `SELECT (SELECT count(*) FROM secret_heads WHERE path LIKE $1) AS paths,
            (SELECT count(*) FROM secret_versions WHERE path LIKE $1) AS versions`,
    [pattern],
  );
  const row = result.rows[0];
  if (row === undefined)
    throw new HallmarkError('ERR_INTERNAL', { detail: 'count returned no row' });
  return { paths: Number(row.paths), versions: Number(row.versions) };
}
