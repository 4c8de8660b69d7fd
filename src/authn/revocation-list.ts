// The revocation list: identities whose tokens issued up to a moment are refused, on every replica.
import type { Clock } from '../clock/index.js';
import type { Database, Queryable } from '../db/index.js';

/** NOTIFY channel carrying each revocation (`{"identity","revoked_at"}`) to every replica. */
export const REVOCATIONS_CHANNEL = 'hallmark_revocations';

/** One revocation: tokens of `identity` with `iat` at or before `revokedAt` are refused. */
export interface Revocation {
  readonly identity: string;
  /** Epoch milliseconds. */
  readonly revokedAt: number;
}

/**
 * The CTE `r` that upserts revocations from `source` (`VALUES (...)` or a `SELECT identity,
 * revoked_at, actor FROM ...`): the one statement text that writes the table, so a revocation
 * made with another change (an API key's) is written like any other. A later revocation moves
 * `revoked_at` forward only. Follow it with {@link announceRevocationSql}.
 */
export function upsertRevocationCte(source: string): string {
  return `r AS (
       INSERT INTO revocations (identity, revoked_at, actor) ${source}
       ON CONFLICT (identity) DO UPDATE
       SET revoked_at = GREATEST(revocations.revoked_at, EXCLUDED.revoked_at), actor = EXCLUDED.actor
       RETURNING identity, revoked_at
     )`;
}

/**
 * Final SELECT over a CTE `r` of upserted revocations: returns them and NOTIFYs each on the
 * channel in parameter `channelParam`, in the same statement, so no revocation is recorded
 * without its announcement.
 */
export function announceRevocationSql(channelParam: string): string {
  const ms = 'floor(extract(epoch FROM r.revoked_at) * 1000)::bigint';
  return `SELECT r.identity, ${ms} AS revoked_at_ms,
    pg_notify(${channelParam}, json_build_object('identity', r.identity, 'revoked_at', ${ms})::text)
  FROM r`;
}

/** A row of {@link announceRevocationSql}. */
export interface RevocationRow {
  identity: string;
  revoked_at_ms: string;
}

/**
 * Records a revocation and announces it, in one statement: usable on the pool or inside a
 * caller's transaction (the broker's unbind), where the NOTIFY is delivered at COMMIT. A
 * second revocation of the same identity only moves `revoked_at` forward.
 */
export async function revokeIdentity(
  db: Queryable,
  identity: string,
  actor: string,
  now: number,
): Promise<Revocation> {
  const result = await db.query<RevocationRow>(
    `WITH ${upsertRevocationCte('VALUES ($1, $2, $3)')}
     ${announceRevocationSql('$4')}`,
    [identity, new Date(now), actor, REVOCATIONS_CHANNEL],
  );
  const row = result.rows[0] as RevocationRow;
  return { identity: row.identity, revokedAt: Number(row.revoked_at_ms) };
}

/** Parses a NOTIFY payload; `undefined` for anything malformed (then the list reloads). */
export function parseRevocationNotice(payload: string): Revocation | undefined {
  try {
    const value = JSON.parse(payload) as { identity?: unknown; revoked_at?: unknown };
    if (typeof value.identity !== 'string' || typeof value.revoked_at !== 'number')
      return undefined;
    return { identity: value.identity, revokedAt: value.revoked_at };
  } catch {
    return undefined;
  }
}

/** What the list needs. */
export interface RevocationListDeps {
  db: Database;
  clock: Clock;
  log: { warn(obj: object, msg?: string): void };
}

/**
 * The revocations still relevant (younger than the longest token lifetime plus skew), in
 * memory, so the per-request check is one map lookup. Kept current by NOTIFY, reloaded after
 * a listener reconnect and on every tick; entries only ever move forward, so a reload racing
 * a notification can never undo a revocation.
 */
export class RevocationList {
  #revoked = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly deps: RevocationListDeps,
    private readonly retentionMs: number,
  ) {}

  /**
   * Subscribes, loads, and starts the reload tick.
   * @param retentionMs how long a revocation matters: token TTL plus clock tolerance.
   */
  static async start(
    deps: RevocationListDeps,
    options: { retentionMs: number; tickMs?: number },
  ): Promise<RevocationList> {
    const list = new RevocationList(deps, options.retentionMs);
    list.#unsubscribe = await deps.db.subscribe(REVOCATIONS_CHANNEL, (payload) => {
      const notice = payload === undefined ? undefined : parseRevocationNotice(payload);
      if (notice !== undefined) list.apply(notice);
      else void list.#reloadQuietly();
    });
    await list.reload();
    if (options.tickMs !== 0) {
      list.#timer = setInterval(() => void list.#tick(), options.tickMs ?? 30_000);
      list.#timer.unref();
    }
    return list;
  }

  /** True when tokens of `identity` issued at `issuedAtMs` are revoked (`iat ≤ revoked_at`). */
  isRevoked(identity: string, issuedAtMs: number): boolean {
    const revokedAt = this.#revoked.get(identity);
    return revokedAt !== undefined && issuedAtMs <= revokedAt;
  }

  /** Merges one revocation into memory (monotonic: a later `revokedAt` wins). */
  apply(revocation: Revocation): void {
    const known = this.#revoked.get(revocation.identity);
    if (known === undefined || revocation.revokedAt > known) {
      this.#revoked.set(revocation.identity, revocation.revokedAt);
    }
  }

  /** Re-reads the relevant revocations from PostgreSQL and merges them in. */
  async reload(): Promise<void> {
    const since = new Date(this.deps.clock.now() - this.retentionMs);
    const result = await this.deps.db.query<RevocationRow>(
      `SELECT identity, floor(extract(epoch FROM revoked_at) * 1000)::bigint AS revoked_at_ms
       FROM revocations WHERE revoked_at >= $1`,
      [since],
    );
    for (const row of result.rows)
      this.apply({ identity: row.identity, revokedAt: Number(row.revoked_at_ms) });
  }

  async #reloadQuietly(): Promise<void> {
    await this.reload().catch((err: Error) =>
      this.deps.log.warn({ err: err.message }, 'revocation reload failed'),
    );
  }

  /** Forgets (and deletes) revocations older than every token they could refuse. */
  async #tick(): Promise<void> {
    const horizon = this.deps.clock.now() - this.retentionMs;
    for (const [identity, revokedAt] of this.#revoked)
      if (revokedAt < horizon) this.#revoked.delete(identity);
    await this.deps.db
      .query('DELETE FROM revocations WHERE revoked_at < $1', [new Date(horizon)])
      .catch((err: Error) => this.deps.log.warn({ err: err.message }, 'revocation prune failed'));
    await this.#reloadQuietly();
  }

  /** Stops the tick and the NOTIFY subscription. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}
