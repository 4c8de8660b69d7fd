// The PostgreSQL secret store: one row per sealed version, one head row per path.
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { preparedStatement, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { checkSecretPath, secretNotFound } from './secret-path-error.js';
import { validateSecretPrefix } from './secret-prefix.js';
import { openSecretVersion, sealSecretVersion } from './secret-sealing.js';
import type {
  PutOptions,
  SecretCounts,
  SecretStore,
  SecretVersion,
  SecretVersionRef,
} from './secret-store.js';
import { DEFAULT_MAX_SECRET_BYTES, encodeSecretValue } from './secret-value.js';

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

/** {@link SecretStore} over PostgreSQL (migration 005). */
export class PgSecretStore implements SecretStore {
  readonly #db: Database;
  readonly #master: MasterKey;
  readonly #clock: Clock;
  readonly #maxValueBytes: number;

  constructor(options: PgSecretStoreOptions) {
    this.#db = options.db;
    this.#master = options.master;
    this.#clock = options.clock;
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_SECRET_BYTES;
  }

  async get(path: string, version?: number): Promise<SecretVersion> {
    checkSecretPath(path);
    const result = await this.#db.query<VersionRow>(
      version === undefined ? READ_LATEST([path]) : READ_VERSION([path, version]),
    );
    const row = result.rows[0];
    if (row === undefined) throw secretNotFound(path, version);
    return this.#open(row);
  }

  async getMany(paths: readonly string[]): Promise<Map<string, SecretVersion>> {
    for (const path of paths) checkSecretPath(path);
    const result = await this.#db.query<VersionRow>(READ_LATEST_MANY([paths]));
    const rows = new Map(result.rows.map((row) => [row.path, row]));
    // Every path is checked for existence before anything is opened: all or nothing.
    for (const path of paths) if (!rows.has(path)) throw secretNotFound(path);
    const opened = new Map<string, SecretVersion>();
    for (const path of paths) opened.set(path, this.#open(rows.get(path) as VersionRow));
    return opened;
  }

  async put(
    path: string,
    value: string,
    actor: string,
    options: PutOptions = {},
  ): Promise<SecretVersionRef> {
    checkSecretPath(path);
    const plaintext = encodeSecretValue(value, this.#maxValueBytes);
    try {
      return await this.#db.transaction(async (client) => {
        // The upsert takes the head row's lock until COMMIT, so a concurrent writer of the
        // same path waits here and then reads the incremented number: no gaps, no duplicates.
        const head = await client.query<{ latest: number }>(
          `INSERT INTO secret_heads (path, latest) VALUES ($1, 1)
           ON CONFLICT (path) DO UPDATE SET latest = secret_heads.latest + 1
           RETURNING latest`,
          [path],
        );
        const version = (head.rows[0] as { latest: number }).latest;
        const envelope = sealSecretVersion(this.#master, path, version, plaintext);
        await client.query(
          `INSERT INTO secret_versions (path, version, wrapped_key, ciphertext, created_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            path,
            version,
            envelope.wrappedKey,
            envelope.ciphertext,
            new Date(this.#clock.now()),
            actor,
          ],
        );
        await options.beforeCommit?.(version);
        return { path, version };
      });
    } finally {
      plaintext.fill(0);
    }
  }

  async deletePrefix(prefix: string): Promise<SecretCounts> {
    const pattern = likePrefix(validateSecretPrefix(prefix));
    return this.#db.transaction(async (client) => {
      const versions = await client.query('DELETE FROM secret_versions WHERE path LIKE $1', [
        pattern,
      ]);
      const heads = await client.query('DELETE FROM secret_heads WHERE path LIKE $1', [pattern]);
      return { paths: heads.rowCount ?? 0, versions: versions.rowCount ?? 0 };
    });
  }

  async count(prefix?: string): Promise<SecretCounts> {
    return countRows(
      this.#db,
      prefix === undefined ? '%' : likePrefix(validateSecretPrefix(prefix)),
    );
  }

  #open(row: VersionRow): SecretVersion {
    const value = openSecretVersion(this.#master, row.path, row.version, {
      wrappedKey: row.wrapped_key,
      ciphertext: row.ciphertext,
    });
    return {
      path: row.path,
      version: row.version,
      value,
      createdAt: row.created_at,
      createdBy: row.created_by,
    };
  }
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
