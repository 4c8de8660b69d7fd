// Broker grants: each binding's read access to its instance scope, compiled and current on every replica.
import type { Database, DbLogger, Queryable } from '../src/db/index.js';
import {
  compileGrants,
  EMPTY_GRANTS,
  type CompiledGrants,
  type GrantSpec,
} from '../src/policy/index.js';
import { scopePrefix } from './broker-ids.js';

/** NOTIFY channel announcing a new grant version (payload: the version number). */
export const BROKER_GRANTS_CHANNEL = 'hallmark_broker_grants';

/** How often a replica compares versions even without a notification (the safety net). */
const DEFAULT_POLL_MS = 5_000;

/**
 * Bumps the grant version and announces it, inside the caller's transaction: the NOTIFY is
 * delivered at COMMIT (never for a rolled-back change), and the version lets a replica that
 * missed it notice on its next poll.
 */
export async function announceGrantChange(tx: Queryable): Promise<void> {
  await tx.query(
    `WITH v AS (UPDATE osb_grant_version SET version = version + 1 RETURNING version)
     SELECT pg_notify($1, version::text) FROM v`,
    [BROKER_GRANTS_CHANNEL],
  );
}

/** Options of {@link BrokerGrants.open}. */
export interface BrokerGrantsOptions {
  /** The server's trust domain (workload bindings name SPIFFE IDs in it). */
  readonly trustDomain: string;
  readonly log?: DbLogger;
  /** Version poll interval; 0 disables the poll (tests drive reloads). */
  readonly pollMs?: number;
}

interface GrantRow {
  version: string;
  identity: string | null;
  instance_id: string | null;
}

/**
 * The read grants of every binding — identity → `read` on `osb/<instance_id>/*` — compiled
 * for `canAccess(policy, identity, action, path, grants.current())`. Reloaded on NOTIFY, after
 * a listener reconnect (state may be stale), when the polled version moves, and by the broker
 * right after its own commits. A failed reload fails closed: no broker grants until the next
 * successful one (secret reads need the database anyway).
 */
export class BrokerGrants {
  #grants: CompiledGrants = EMPTY_GRANTS;
  #version = -1;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly db: Database,
    private readonly options: BrokerGrantsOptions,
  ) {}

  /** Loads the grants and starts following changes. */
  static async open(db: Database, options: BrokerGrantsOptions): Promise<BrokerGrants> {
    const grants = new BrokerGrants(db, options);
    grants.#unsubscribe = await db.subscribe(BROKER_GRANTS_CHANNEL, () => void grants.reload());
    await grants.reload();
    const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (pollMs > 0) {
      grants.#timer = setInterval(() => void grants.#poll(), pollMs);
      grants.#timer.unref();
    }
    return grants;
  }

  /** The grants in force (pass as `extraGrants` to `canAccess`). */
  current(): CompiledGrants {
    return this.#grants;
  }

  /** Version of the grants in force; -1 before the first load or after a failed one. */
  version(): number {
    return this.#version;
  }

  /**
   * Re-reads every binding. Version and rows come from one statement (one snapshot), and an
   * older result never replaces a newer one, so concurrent reloads cannot go backwards.
   * Never rejects: failures are logged and fail closed.
   */
  async reload(): Promise<void> {
    try {
      const result = await this.db.query<GrantRow>(
        `SELECT g.version::text AS version, b.identity, b.instance_id
           FROM osb_grant_version g LEFT JOIN osb_bindings b ON true`,
      );
      const version = Number(result.rows[0]?.version ?? 0);
      if (version < this.#version) return;
      const specs: GrantSpec[] = [];
      for (const row of result.rows) {
        if (row.identity !== null && row.instance_id !== null) {
          specs.push({ to: row.identity, read: [`${scopePrefix(row.instance_id)}*`] });
        }
      }
      this.#grants = this.#compile(specs);
      this.#version = version;
    } catch (err) {
      this.#grants = EMPTY_GRANTS;
      this.#version = -1;
      this.options.log?.warn(
        { err: (err as Error).message },
        'broker grants reload failed; denying until reloaded',
      );
    }
  }

  /** Stops following changes. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }

  /**
   * Compiles all specs; if one is refused (a SPIFFE ID of a trust domain this server no
   * longer has), the others still count and the bad one is logged, not granted.
   */
  #compile(specs: GrantSpec[]): CompiledGrants {
    const options = { trustDomain: this.options.trustDomain };
    try {
      return compileGrants(specs, options);
    } catch {
      const valid = specs.filter((spec) => {
        try {
          compileGrants([spec], options);
          return true;
        } catch {
          this.options.log?.warn({ identity: spec.to }, 'broker grant refused; not in force');
          return false;
        }
      });
      return compileGrants(valid, options);
    }
  }

  async #poll(): Promise<void> {
    const result = await this.db
      .query<{ version: string }>('SELECT version::text AS version FROM osb_grant_version')
      .catch(() => undefined);
    const version = result === undefined ? undefined : Number(result.rows[0]?.version ?? 0);
    if (version === undefined || version !== this.#version) await this.reload();
  }
}
