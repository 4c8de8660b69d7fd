// The rotating keyring: the key that signs now and every key still published, shared by replicas.
import type { KeyObject } from 'node:crypto';
import type { AuditLog, NamedAuditAction } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Database, Queryable } from '../db/index.js';
import { nextRotationStep, type KeySchedule, type RotationStep } from './key-schedule.js';
import { activateKey, dropKeys, insertKey, loadKeys, type StoredKey } from './key-table.js';
import type { KeyringKind } from './keyring-kind.js';

/** What a keyring needs from the composition root. */
export interface RotatingKeyringDeps {
  readonly db: Database;
  readonly master: MasterKey;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /**
   * Runs inside the rotation transaction, on exactly one replica, whenever the set of stored
   * kids changes (a key created or dropped; activation only moves the signing role).
   */
  readonly onPublishedSetChange?: (client: Queryable) => Promise<void>;
}

/** The stored key that signs now: one whose private key is still there. */
export type SigningKeyOf<S extends StoredKey> = S & { readonly privateKey: KeyObject };

/** Options of {@link RotatingKeyring.rotate}. */
export interface RotateOptions {
  /** `false` skips the round when another replica holds the lock. */
  readonly wait: boolean;
  /** Prepares (if needed) and activates a successor at once (operator request, tests). */
  readonly force?: boolean;
  readonly actor: string;
  readonly requestId?: string;
}

type Change = { action: NamedAuditAction; kid: string };

/**
 * Holds one kind's keys in memory, loaded from PostgreSQL. Rotation is saved state (prepared →
 * active → retired) driven by the pure {@link nextRotationStep}. Exactly one replica rotates at
 * a time (`pg_try_advisory_xact_lock`); every replica reloads on NOTIFY, after a listener
 * reconnect and on every tick, so a key activated on one replica is known to all.
 */
export class RotatingKeyring<M extends { readonly kid: string }, S extends StoredKey> {
  #keys: readonly S[] = [];
  #active: SigningKeyOf<S> | undefined;
  #reloads: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #listeners = new Set<() => void>();

  /**
   * @param onLoad runs inside every reload with all stored keys, before the keyring shows them;
   *   a kind that derives state from its keys (imported verification keys) builds it here, and
   *   its failure fails the reload.
   */
  constructor(
    private readonly deps: RotatingKeyringDeps,
    private readonly kind: KeyringKind<M, S>,
    readonly schedule: KeySchedule,
    private readonly onLoad?: (stored: readonly S[]) => Promise<void>,
  ) {}

  /**
   * Subscribes to the kind's channel, applies the due step (creating the first key on a fresh
   * database), loads the keys and, with `tickMs`, starts the ticker. The first step waits for
   * the lock, so replicas starting together create exactly one key.
   */
  async start(options: { tickMs?: number } = {}): Promise<void> {
    this.#unsubscribe = await this.deps.db.subscribe(this.kind.channel, () => {
      this.reload().catch((err: Error) =>
        this.deps.log.warn({ err: err.message }, this.kind.logs.reloadFailed),
      );
    });
    try {
      await this.rotate({ wait: true, actor: 'system' });
      await this.reload();
    } catch (err) {
      this.stop();
      throw err;
    }
    if (options.tickMs !== undefined) {
      this.#timer = setInterval(() => void this.#tick(), options.tickMs);
      this.#timer.unref();
    }
  }

  /** The key to sign with; `undefined` until one is loaded. */
  signingKey(): SigningKeyOf<S> | undefined {
    return this.#active;
  }

  /** Every stored key as last loaded, oldest first (retired ones until their row is deleted). */
  keys(): readonly S[] {
    return this.#keys;
  }

  /** Calls `listener` after a reload that changed the keys (the stored set or a status). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the keys from PostgreSQL; calls are serialised so the last one always wins. */
  reload(): Promise<void> {
    const next = this.#reloads.catch(() => undefined).then(() => this.#load());
    this.#reloads = next;
    return next;
  }

  async #load(): Promise<void> {
    const stored = await loadKeys(this.deps.db, this.deps.master, this.kind.table);
    await this.onLoad?.(stored);
    const before = fingerprint(this.#keys);
    this.#keys = stored;
    const active = stored.find((key) => key.status === 'active');
    if (active !== undefined && canSign(active) && this.#active?.kid !== active.kid) {
      this.#active = active;
    }
    if (fingerprint(stored) !== before) for (const listener of this.#listeners) listener();
  }

  /**
   * Applies whatever rotation step is due (with `force`, first a forced successor). Returns
   * true when this replica changed the key set.
   */
  async rotate(options: RotateOptions): Promise<boolean> {
    const changes: Change[] = [];
    await this.deps.db.transaction(async (client) => {
      if (options.wait) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [this.kind.lock]);
      } else {
        const lock = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS ok',
          [this.kind.lock],
        );
        if (!lock.rows[0]?.ok) return;
      }
      const now = this.deps.clock.now();
      let published = false;
      if (options.force) published = await this.#forceRotation(client, now, changes);
      for (let guard = 0; guard < 4; guard++) {
        const step = nextRotationStep(await this.#stored(client), now, this.schedule);
        if (step.kind === 'none') break;
        if (await this.#apply(client, step, now, changes)) published = true;
      }
      if (published) await this.deps.onPublishedSetChange?.(client);
      if (changes.length > 0) await client.query(`NOTIFY ${this.kind.channel}`);
      // Staged in the rotation's transaction: a key change commits with its rows or not at all.
      if (changes.length > 0) {
        await this.deps.audit.stage(
          client,
          changes.map((change) => ({
            actor: options.actor,
            action: change.action,
            target: change.kid,
            outcome: 'success' as const,
            requestId: options.requestId,
          })),
        );
      }
    });
    for (const change of changes) this.deps.log.info(change, this.kind.logs.rotated);
    if (changes.length > 0) await this.reload();
    return changes.length > 0;
  }

  #stored(client: Queryable): Promise<S[]> {
    return loadKeys(client, this.deps.master, this.kind.table);
  }

  /** Returns true when the stored set of kids changed. */
  async #forceRotation(client: Queryable, now: number, changes: Change[]): Promise<boolean> {
    let published = false;
    let prepared = (await this.#stored(client)).find((key) => key.status === 'prepared');
    if (prepared === undefined) {
      published = await this.#apply(client, { kind: 'prepare' }, now, changes);
      prepared = (await this.#stored(client)).find((key) => key.status === 'prepared');
    }
    if (prepared !== undefined) {
      await this.#apply(client, { kind: 'activate', kid: prepared.kid }, now, changes);
    }
    return published;
  }

  /** Returns true when the stored set of kids changed (anything but an activation). */
  async #apply(
    client: Queryable,
    step: Exclude<RotationStep, { kind: 'none' }>,
    now: number,
    changes: Change[],
  ): Promise<boolean> {
    const { table, actions } = this.kind;
    if (step.kind === 'bootstrap' || step.kind === 'prepare') {
      const material = await this.kind.generate();
      const status = step.kind === 'bootstrap' ? 'active' : 'prepared';
      await insertKey(client, this.deps.master, table, material, status, now);
      changes.push({
        action: status === 'active' ? actions.bootstrapped : actions.prepared,
        kid: material.kid,
      });
      return true;
    }
    if (step.kind === 'activate') {
      await activateKey(client, table.name, step.kid, now);
      changes.push({ action: actions.activated, kid: step.kid });
      return false;
    }
    await dropKeys(client, table.name, step.kids);
    for (const kid of step.kids) changes.push({ action: actions.dropped, kid });
    return true;
  }

  async #tick(): Promise<void> {
    try {
      const changed = await this.rotate({ wait: false, actor: 'system' });
      if (!changed) await this.reload();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, this.kind.logs.rotationCheckFailed);
    }
  }

  /** Stops the ticker and the NOTIFY subscription (the database stays open). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}

function canSign<S extends StoredKey>(key: S): key is SigningKeyOf<S> {
  return key.privateKey !== undefined;
}

function fingerprint(keys: readonly StoredKey[]): string {
  return keys.map((key) => `${key.kid}:${key.status}`).join(',');
}
