// The rotating keyring: the key that signs now and every key still published, shared by replicas.
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Database, Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { planDistrust } from './distrust-plan.js';
import {
  nextRotationStep,
  type KeySchedule,
  type KeySlot,
  type RotationStep,
} from './key-schedule.js';
import { signerOf, type KeySigner } from './key-signer.js';
import {
  applyStep,
  forceSuccessor,
  stageChanges,
  takeRoundLock,
  type KeyChange,
  type RoundRecord,
  type StepContext,
} from './key-steps.js';
import type { KeyStore } from './key-store.js';
import { tableStore, type StoredKey } from './key-table.js';
import { SEALED_ONLY, type KeyVault } from './key-vault.js';
import type { KeyringKind } from './keyring-kind.js';

/** What a keyring needs from the composition root. */
export interface RotatingKeyringDeps {
  readonly db: Database;
  readonly master: MasterKey;
  /** Where new keys are generated and token keys sign; default: sealed keys only. */
  readonly vault?: KeyVault;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /**
   * Runs inside the rotation transaction, on exactly one replica, whenever the set of published
   * kids changes (a key created, dropped or distrusted; activation only moves the signing role).
   */
  readonly onPublishedSetChange?: (client: Queryable) => Promise<void>;
}

/** When to rotate, for a kind whose rule is not the period schedule (the CA's lifetimes). */
export interface RotationPolicy<S extends KeySlot> {
  nextStep(stored: readonly S[], now: number): RotationStep;
}

/** The stored key that signs now, with its signer. */
export type SigningKeyOf<S extends StoredKey> = S & { readonly signer: KeySigner };

/** Who asks for a change, for the audit row. */
export interface ChangeRequest {
  readonly actor: string;
  readonly requestId?: string;
}

/** Options of {@link RotatingKeyring.rotate}. */
export interface RotateOptions extends ChangeRequest {
  /** `false` skips the round when another replica holds the lock. */
  readonly wait: boolean;
  /** Prepares (if needed) and activates a successor at once (operator request, tests). */
  readonly force?: boolean;
}

/** Options of {@link RotatingKeyring.distrust}. */
export interface DistrustOptions extends ChangeRequest {
  readonly kid: string;
  /** Also prepare (if needed) and activate a successor, in the same transaction. */
  readonly rotate?: boolean;
}

/** What {@link RotatingKeyring.distrust} did. */
export interface DistrustResult {
  /** False when the key was distrusted already: nothing changed, nothing was audited. */
  readonly changed: boolean;
  /** Every change of the step (the distrust, and a successor's preparation and activation). */
  readonly changes: readonly KeyChange[];
}

/** Adds a change to the round's list and returns true when the published set changed. */
type RoundWork<M> = (client: Queryable, now: number, round: RoundRecord<M>) => Promise<boolean>;

/**
 * Holds one kind's keys in memory, loaded from PostgreSQL. Rotation is saved state (prepared →
 * active → retired, or distrusted) driven by a pure rule: the period schedule
 * ({@link nextRotationStep}) or the kind's own policy. Exactly one replica changes the keys at
 * a time (the kind's advisory lock); every replica reloads on NOTIFY, after a listener
 * reconnect and on every tick, so a key activated or distrusted on one replica is known to all.
 */
export class RotatingKeyring<M, S extends StoredKey> {
  #keys: readonly S[] = [];
  #active: SigningKeyOf<S> | undefined;
  #derived: string | undefined;
  #reloads: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #listeners = new Set<() => void>();
  readonly #store: KeyStore<M, S>;
  readonly #policy: RotationPolicy<S>;
  readonly #steps: StepContext<M, S>;

  /**
   * @param rule the period schedule, or a kind's own rotation policy.
   * @param onLoad runs inside every reload with all stored keys, before the keyring shows them;
   *   a kind that derives state from its keys (imported verification keys, a prepared CA)
   *   builds it here, and its failure fails the reload. A string it returns stands for state
   *   read beside the keys (the bundle sequence): when it changes, listeners hear of it.
   */
  constructor(
    private readonly deps: RotatingKeyringDeps,
    private readonly kind: KeyringKind<M, S>,
    rule: KeySchedule | RotationPolicy<S>,
    private readonly onLoad?: (stored: readonly S[]) => Promise<string | void>,
  ) {
    // The union in KeyringKind guarantees a kid on table materials; TypeScript cannot see it here.
    this.#store =
      kind.store ??
      (tableStore(
        deps.master,
        kind.table as never,
        deps.vault ?? SEALED_ONLY,
      ) as unknown as KeyStore<M, S>);
    this.#policy =
      'nextStep' in rule
        ? rule
        : { nextStep: (stored, now) => nextRotationStep(stored, now, rule) };
    this.#steps = { store: this.#store, kind };
  }

  /**
   * Subscribes to the kind's channel, checks that every key held in a token is there, applies
   * the due step (creating the first key on a fresh database), loads the keys and, with
   * `tickMs`, starts the ticker. The first step waits for the lock, so replicas starting
   * together create exactly one key.
   * @throws ConfigError naming the PKCS#11 variable to fix when a signing key is not in the
   *   configured token (see {@link KeyVault.checkAtStart}).
   */
  async start(options: { tickMs?: number } = {}): Promise<void> {
    this.#unsubscribe = await this.deps.db.subscribe(this.kind.channel, () => {
      this.reload().catch((err: Error) =>
        this.deps.log.warn({ err: err.message }, this.kind.logs.reloadFailed),
      );
    });
    try {
      // The keys that sign now or next must be in the token their rows point to.
      await (this.deps.vault ?? SEALED_ONLY).checkAtStart(await this.#store.load(this.deps.db));
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

  /** Every stored key as last loaded, oldest first (retired and distrusted ones until dropped). */
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
    const stored = await this.#store.load(this.deps.db);
    const derived = (await this.onLoad?.(stored)) ?? undefined;
    const before = this.#fingerprint();
    this.#keys = stored;
    this.#derived = derived;
    const active = stored.find((key) => key.status === 'active');
    const signer = active === undefined ? undefined : signerOf(active);
    if (active !== undefined && signer !== undefined) {
      if (this.#active?.kid !== active.kid) this.#active = { ...active, signer };
    } else if (stored.some((key) => key.kid === this.#active?.kid && key.status === 'distrusted')) {
      this.#active = undefined;
    }
    if (this.#fingerprint() !== before) for (const listener of this.#listeners) listener();
  }

  /**
   * Applies whatever rotation step is due (with `force`, first a forced successor). Returns
   * true when this replica changed the key set.
   */
  async rotate(options: RotateOptions): Promise<boolean> {
    const changes = await this.#round(options, options.wait, (client, now, round) =>
      options.force ? forceSuccessor(this.#steps, client, now, round) : Promise.resolve(false),
    );
    return changes.length > 0;
  }

  /**
   * Distrusts `kid` on every replica: it stops signing and verifying and leaves whatever the
   * kind publishes, in one transaction with its audit row. The key that signs now goes only
   * with `rotate`, which activates a successor in the same transaction; distrusting a key
   * twice changes nothing.
   * @throws HallmarkError the kind's `unknownKey` code (no such key) or `lastKey` code (the
   *   signing key without `rotate`); nothing changes then.
   */
  async distrust(options: DistrustOptions): Promise<DistrustResult> {
    const action = this.kind.actions.distrusted;
    if (action === undefined) {
      throw new HallmarkError('ERR_INTERNAL', {
        detail: `${this.kind.channel} keys cannot be distrusted`,
      });
    }
    const changes = await this.#round(options, true, async (client, now, round) => {
      const plan = planDistrust(await this.#store.load(client), options.kid, !!options.rotate);
      const errors = this.kind.errors ?? {
        unknownKey: 'ERR_KEYRING_UNKNOWN_KEY',
        lastKey: 'ERR_KEYRING_LAST_KEY',
      };
      if (plan.kind === 'unknown') {
        throw new HallmarkError(errors.unknownKey, { detail: `no key ${options.kid}` });
      }
      if (plan.kind === 'last') {
        throw new HallmarkError(errors.lastKey, {
          detail: `${options.kid} signs now; distrust it together with activating a successor`,
        });
      }
      if (plan.kind === 'already') return false;
      await this.#store.distrust(client, options.kid, now);
      round.changes.push({ action, kid: options.kid });
      if (plan.activateSuccessor) {
        // A successor prepared before the compromise came to light was as exposed as the key
        // distrusted (same store, same master key): distrust it too, so the successor
        // activated now has a key made after the operator acted.
        for (const slot of await this.#store.load(client)) {
          if (slot.status !== 'prepared') continue;
          await this.#store.distrust(client, slot.kid, now);
          round.changes.push({ action, kid: slot.kid });
        }
        await forceSuccessor(this.#steps, client, now, round);
      }
      return true;
    });
    return { changed: changes.length > 0, changes };
  }

  /**
   * One transaction under the kind's lock: `work`, then whatever the rule says is due, the
   * published-set hooks, NOTIFY and the audit rows. Returns the changes (none when the lock
   * was busy and `wait` is false).
   */
  async #round(request: ChangeRequest, wait: boolean, work: RoundWork<M>): Promise<KeyChange[]> {
    const round: RoundRecord<M> = { changes: [], generated: [] };
    const { changes } = round;
    let notified = false;
    try {
      await this.deps.db.transaction(async (client) => {
        if (!(await takeRoundLock(client, this.kind.lock, wait))) return;
        const now = this.deps.clock.now();
        let published = await work(client, now, round);
        for (let guard = 0; guard < 4; guard++) {
          const step = this.#policy.nextStep(await this.#store.load(client), now);
          if (step.kind === 'none') break;
          if (await applyStep(this.#steps, client, step, now, round)) published = true;
        }
        if (published) await this.deps.onPublishedSetChange?.(client);
        const reconciled =
          this.kind.reconcile !== undefined &&
          (await this.kind.reconcile(client, await this.#store.load(client), now));
        notified = changes.length > 0 || reconciled;
        if (notified) await client.query(`NOTIFY ${this.kind.channel}`);
        // The keyring's one audit point: the rows are staged in the change's own transaction,
        // so a key changes with its rows or not at all.
        await stageChanges(this.deps.audit, client, changes, request, this.kind.auditTarget);
      });
    } catch (err) {
      // Keys generated for rows that were never committed: a token would keep them forever.
      for (const material of round.generated) {
        await this.kind.discard?.(material).catch((cause: Error) => {
          this.deps.log.warn({ err: cause.message }, this.kind.logs.rotationCheckFailed);
        });
      }
      throw err;
    }
    for (const change of changes) this.deps.log.info(change, this.kind.logs.rotated);
    if (notified) await this.reload();
    return changes;
  }

  async #tick(): Promise<void> {
    try {
      const changed = await this.rotate({ wait: false, actor: 'system' });
      if (!changed) await this.reload();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, this.kind.logs.rotationCheckFailed);
    }
  }

  #fingerprint(): string {
    return `${this.#derived ?? ''}|${this.#keys.map((key) => `${key.kid}:${key.status}`).join(',')}`;
  }

  /** Stops the ticker and the NOTIFY subscription (the database stays open). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
