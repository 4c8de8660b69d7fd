// The JWT authority keyring: the key that signs JWT-SVIDs now and every key the bundle publishes.
import type { KeyObject } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { BundleJwk } from '../ca/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  nextRotationStep,
  rotationTickMs,
  type KeySchedule,
  type RotationStep,
} from '../keyring/index.js';
import { generateJwtAuthority } from './jwt-authority-key.js';
import {
  jwtAuthoritySchedule,
  resolveJwtAuthoritySettings,
  type JwtAuthoritySettings,
} from './jwt-authority-settings.js';
import {
  activateJwtAuthority,
  dropJwtAuthorities,
  insertJwtAuthority,
  loadJwtAuthorities,
  type StoredJwtAuthority,
} from './jwt-authority-store.js';
import type { JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** NOTIFY channel on which replicas learn that the set of JWT authorities changed. */
export const JWT_AUTHORITIES_CHANNEL = 'hallmark_jwt_authorities';

/** Longest reload interval: NOTIFY is the fast path, the tick the safety net when it is lost. */
const MAX_TICK_MS = 30_000;

/** What the keyring needs from the composition root. */
export interface JwtAuthorityKeyringDeps {
  readonly db: Database;
  readonly master: MasterKey;
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /**
   * Runs inside the rotation transaction whenever the published set of kids changes (a key
   * created or dropped), on exactly one replica: the place to bump the bundle's
   * `spiffe_sequence` so it moves together with the keys. @see SPIFFE bundle §4.1.1
   */
  readonly onPublishedSetChange?: (client: Queryable) => Promise<void>;
}

/** The authority JWT-SVIDs are signed with now. */
export interface ActiveJwtAuthority {
  readonly kid: string;
  readonly alg: JwtSvidAlgorithm;
  readonly privateKey: KeyObject;
}

/** An authority as operators and tests see it (no key material). */
export type JwtAuthorityInfo = Pick<
  StoredJwtAuthority,
  'kid' | 'alg' | 'status' | 'createdAt' | 'activatedAt' | 'retiredAt'
>;

type Change = { action: string; kid: string };

/** Audit action of an activation (a bootstrap key is `jwt_authority.created`). */
const ACTIVATED_ACTION = 'jwt_authority.activated';

/**
 * Holds JWT authorities in memory, loaded from PostgreSQL. Rotation follows the X.509 CA's
 * rules as saved state (prepared → active → retired): a successor is prepared — and so
 * published in the bundle — well before it signs, and a retired key stays published until
 * every JWT-SVID it signed has expired. Exactly one replica rotates at a time
 * (`pg_try_advisory_xact_lock`); every replica reloads on NOTIFY, after a listener reconnect
 * and on every tick.
 */
export class JwtAuthorityKeyring {
  #authorities: StoredJwtAuthority[] = [];
  #active: ActiveJwtAuthority | undefined;
  #reloads: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #listeners = new Set<() => void>();

  private constructor(
    private readonly deps: JwtAuthorityKeyringDeps,
    private readonly algorithm: JwtSvidAlgorithm,
    /** The generic signing-key rotation rules, shared with access tokens. */
    readonly schedule: KeySchedule,
  ) {}

  /**
   * Loads the authorities (creating the first on a fresh database) and starts the rotation
   * ticker. The first step waits for the lock, so replicas starting together create one key.
   * @throws HallmarkError ERR_CONFIG_INVALID for an algorithm outside the JWT-SVID allowlist.
   */
  static async start(
    deps: JwtAuthorityKeyringDeps,
    settings: JwtAuthoritySettings,
  ): Promise<JwtAuthorityKeyring> {
    const resolved = resolveJwtAuthoritySettings(settings);
    const schedule = jwtAuthoritySchedule(resolved);
    const ring = new JwtAuthorityKeyring(deps, resolved.algorithm, schedule);
    ring.#unsubscribe = await deps.db.subscribe(JWT_AUTHORITIES_CHANNEL, () => {
      ring
        .reload()
        .catch((err: Error) => deps.log.warn({ err: err.message }, 'JWT authority reload failed'));
    });
    try {
      await ring.rotate({ wait: true, actor: 'system' });
      await ring.reload();
    } catch (err) {
      ring.stop();
      throw err;
    }
    if (resolved.tick) {
      ring.#timer = setInterval(
        () => void ring.#tick(),
        Math.min(MAX_TICK_MS, rotationTickMs(schedule)),
      );
      ring.#timer.unref();
    }
    return ring;
  }

  /** The authority to sign with. @throws HallmarkError ERR_JWTSVID_AUTHORITY_UNAVAILABLE */
  signingAuthority(): ActiveJwtAuthority {
    if (this.#active === undefined) {
      throw new HallmarkError('ERR_JWTSVID_AUTHORITY_UNAVAILABLE', {
        detail: 'no active JWT authority loaded',
      });
    }
    return this.#active;
  }

  /**
   * The `jwt-svid` entries of the SPIFFE bundle: every stored authority — prepared (so relying
   * parties have it before its first JWT-SVID), active, and retired until dropped (so they keep
   * it until its last JWT-SVID has expired). @see SPIFFE JWT-SVID §6.1
   */
  bundleJwks(): BundleJwk[] {
    return this.#authorities.map((authority) => ({ ...authority.bundleJwk }));
  }

  /** Every loaded authority, oldest first (for operators and tests). */
  authorities(): JwtAuthorityInfo[] {
    return this.#authorities.map(({ kid, alg, status, createdAt, activatedAt, retiredAt }) => ({
      kid,
      alg,
      status,
      createdAt,
      activatedAt,
      retiredAt,
    }));
  }

  /** Calls `listener` after a reload that changed the authorities (published set or active key). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the authorities from PostgreSQL; calls are serialised so the last one wins. */
  reload(): Promise<void> {
    const next = this.#reloads.catch(() => undefined).then(() => this.#load());
    this.#reloads = next;
    return next;
  }

  async #load(): Promise<void> {
    const stored = await loadJwtAuthorities(this.deps.db, this.deps.master);
    const before = fingerprint(this.#authorities);
    this.#authorities = stored;
    const active = stored.find((authority) => authority.status === 'active');
    if (active?.privateKey !== undefined && this.#active?.kid !== active.kid) {
      this.#active = { kid: active.kid, alg: active.alg, privateKey: active.privateKey };
    }
    if (fingerprint(stored) !== before) for (const listener of this.#listeners) listener();
  }

  /**
   * Applies whatever rotation step is due. Returns true when this replica changed the set.
   * `wait: false` skips the round when another replica holds the lock.
   */
  async rotate(options: { wait: boolean; actor: string; requestId?: string }): Promise<boolean> {
    const changes: Change[] = [];
    await this.deps.db.transaction(async (client) => {
      if (options.wait) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.jwtKeyRotation]);
      } else {
        const lock = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS ok',
          [ADVISORY_LOCKS.jwtKeyRotation],
        );
        if (!lock.rows[0]?.ok) return;
      }
      const now = this.deps.clock.now();
      for (let guard = 0; guard < 4; guard++) {
        const stored = await loadJwtAuthorities(client, this.deps.master);
        const step = nextRotationStep(stored, now, this.schedule);
        if (step.kind === 'none') break;
        await this.#apply(client, step, now, changes);
      }
      // Activation only moves the signing role between published keys; the bundle's content
      // changes when a key is created or dropped.
      if (changes.some((change) => change.action !== ACTIVATED_ACTION)) {
        await this.deps.onPublishedSetChange?.(client);
      }
      if (changes.length > 0) await client.query(`NOTIFY ${JWT_AUTHORITIES_CHANNEL}`);
    });
    for (const change of changes) {
      this.deps.log.info(change, 'JWT authority rotated');
      await this.deps.audit.append({
        actor: options.actor,
        action: change.action,
        target: change.kid,
        outcome: 'success',
        requestId: options.requestId,
      });
    }
    if (changes.length > 0) await this.reload();
    return changes.length > 0;
  }

  async #apply(
    client: Queryable,
    step: Exclude<RotationStep, { kind: 'none' }>,
    now: number,
    changes: Change[],
  ): Promise<void> {
    if (step.kind === 'bootstrap' || step.kind === 'prepare') {
      const material = await generateJwtAuthority(this.algorithm);
      const status = step.kind === 'bootstrap' ? 'active' : 'prepared';
      await insertJwtAuthority(client, this.deps.master, material, status, now);
      changes.push({
        action: status === 'active' ? 'jwt_authority.created' : 'jwt_authority.prepared',
        kid: material.kid,
      });
    } else if (step.kind === 'activate') {
      await activateJwtAuthority(client, step.kid, now);
      changes.push({ action: ACTIVATED_ACTION, kid: step.kid });
    } else {
      await dropJwtAuthorities(client, step.kids);
      for (const kid of step.kids) changes.push({ action: 'jwt_authority.dropped', kid });
    }
  }

  async #tick(): Promise<void> {
    try {
      const changed = await this.rotate({ wait: false, actor: 'system' });
      if (!changed) await this.reload();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'JWT authority rotation check failed');
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

function fingerprint(authorities: readonly StoredJwtAuthority[]): string {
  return authorities.map((authority) => `${authority.kid}:${authority.status}`).join(',');
}
