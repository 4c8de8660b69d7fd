// The PostgreSQL policy store: versioned documents, every replica following the newest via NOTIFY.
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database } from '../db/index.js';
import {
  compilePolicy,
  emptyPolicy,
  type CompiledPolicy,
  type CompilePolicyOptions,
} from './compiled-policy.js';
import { foreignPathSummary } from './identity-confinement.js';
import type { PolicyStore } from './policy-store.js';

/** NOTIFY channel carrying the new version number. */
export const POLICY_CHANNEL = 'hallmark_policy';

/** What a load committed: its version and the SHA-256 of the document stored under it. */
export interface LoadedPolicy {
  readonly version: number;
  readonly sha256: string;
}

/** How often a replica re-reads the version even without a notification (a safety net). */
const POLL_MS = 5_000;

/**
 * Policy in PostgreSQL. A new document is compiled (validated as a whole) before anything is
 * written, inserted as the next version under an advisory lock, and announced with NOTIFY, so
 * every replica switches within a second; the previous version stays in force on any failure.
 */
export class PgPolicyStore implements PolicyStore {
  #policy: CompiledPolicy;
  #version = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly db: Database,
    private readonly options: CompilePolicyOptions,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {
    this.#policy = emptyPolicy(options);
  }

  /** Loads the newest stored version and starts following changes. */
  static async open(
    db: Database,
    options: CompilePolicyOptions,
    clock: Clock,
    audit: AuditLog,
  ): Promise<PgPolicyStore> {
    const store = new PgPolicyStore(db, options, clock, audit);
    await store.refresh();
    store.#unsubscribe = await db.subscribe(
      POLICY_CHANNEL,
      () => void store.refresh().catch(() => undefined),
    );
    store.#timer = setInterval(() => void store.refresh().catch(() => undefined), POLL_MS);
    store.#timer.unref();
    return store;
  }

  current(): CompiledPolicy {
    return this.#policy;
  }

  version(): number {
    return this.#version;
  }

  /**
   * Loads the newest version if it is newer than the one in force. Refreshes overlap (NOTIFY,
   * the poll, a load on this replica) and may finish in any order, so the version is compared
   * again once the row is in hand: an older row arriving late never replaces a newer policy.
   */
  async refresh(): Promise<void> {
    const latest = await this.db.query<{ version: number; document: string }>(
      'SELECT version, document FROM policies WHERE version > $1 ORDER BY version DESC LIMIT 1',
      [this.#version],
    );
    const row = latest.rows[0];
    if (row === undefined || row.version <= this.#version) return;
    // Stored documents were valid when loaded and the options are fixed per server, so this
    // compile only fails if the trust domain changed; then the old policy stays in force. A
    // document stored before identity confinement still loads: its registrations rendering
    // outside their namespace refuse their pods instead of stopping the server.
    this.#policy = compilePolicy(row.document, { ...this.options, tolerateUnconfined: true });
    this.#version = row.version;
  }

  async replace(yamlText: string): Promise<number> {
    return (await this.load(yamlText, 'system')).version;
  }

  /**
   * Validates and stores a new version; returns it with the hash of the document it stored.
   * Both describe this load's commit, never the policy in force when it returns: another
   * replica's newer version may already be installed by then. Its `policy.load` audit row is
   * staged in the same transaction, so no replica can switch to a version that has no row.
   * @throws PolicyInvalidError ERR_POLICY_INVALID without writing
   * @throws HallmarkError ERR_AUDIT_UNAVAILABLE without writing
   */
  async load(yamlText: string, actor: string, requestId?: string): Promise<LoadedPolicy> {
    const compiled = compilePolicy(yamlText, this.options);
    const version = await this.db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.policyLoad]);
      const max = await client.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM policies',
      );
      const next = (max.rows[0]?.v ?? 0) + 1;
      await client.query(
        'INSERT INTO policies (version, document, sha256, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5)',
        [next, yamlText, compiled.sha256, new Date(this.clock.now()), actor],
      );
      await this.audit.stage(client, {
        actor,
        action: 'policy.load',
        target: `policy@${next}`,
        outcome: 'success',
        // Identities a registration may render outside its namespace are named in the row.
        reason: foreignPathSummary(compiled.foreignPaths),
        requestId,
      });
      await client.query('SELECT pg_notify($1, $2)', [POLICY_CHANNEL, String(next)]);
      return next;
    });
    if (version > this.#version) {
      this.#policy = compiled;
      this.#version = version;
    }
    return { version, sha256: compiled.sha256 };
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}
