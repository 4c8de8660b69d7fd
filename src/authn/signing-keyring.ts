// The signing keyring: the active ES256 key and every key tokens may still be verified with.
import type { KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { ACCESS_TOKEN_ALG, generateSigningKey } from './signing-key.js';
import {
  nextSigningKeyStep,
  signingKeyTickMs,
  verificationSlots,
  type SigningKeySchedule,
  type SigningKeyStep,
} from './signing-key-schedule.js';
import {
  activateSigningKey,
  dropSigningKeys,
  insertSigningKey,
  loadSigningKeys,
  type StoredSigningKey,
} from './signing-key-store.js';

/** NOTIFY channel on which replicas learn that the set of signing keys changed. */
export const TOKEN_KEYS_CHANNEL = 'hallmark_token_keys';

/** An unknown kid triggers at most one reload per this interval (a flood of made-up kids cannot). */
const UNKNOWN_KID_RELOAD_MS = 1_000;

/** What the keyring needs. */
export interface SigningKeyringDeps {
  db: Database;
  master: MasterKey;
  clock: Clock;
  audit: AuditLog;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/** The key tokens are signed with now. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

interface VerificationKey {
  readonly slot: StoredSigningKey;
  readonly key: CryptoKey;
}

/** Imports only the public members, and only a P-256 key, whatever the row says. */
async function importVerificationKey(jwk: JWK): Promise<CryptoKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new HallmarkError('ERR_INTERNAL', { detail: `signing key ${jwk.kid} is not EC P-256` });
  }
  const key = await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, ACCESS_TOKEN_ALG);
  return key as CryptoKey;
}

/**
 * Holds signing keys in memory, loaded from PostgreSQL. Exactly one replica rotates at a time
 * (`pg_try_advisory_xact_lock`); every replica reloads on NOTIFY, after a listener reconnect,
 * on every tick and, rate-limited, when it meets a kid it does not know — so a token signed on
 * one replica verifies on all of them.
 */
export class SigningKeyring {
  #keys = new Map<string, VerificationKey>();
  #active: ActiveSigningKey | undefined;
  #reloads: Promise<void> = Promise.resolve();
  #lastUnknownKidReload = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly deps: SigningKeyringDeps,
    private readonly schedule: SigningKeySchedule,
  ) {}

  /**
   * Loads the keys (creating the first on a fresh database) and starts the rotation ticker.
   * The first step waits for the lock, so replicas starting together create exactly one key.
   */
  static async start(
    deps: SigningKeyringDeps,
    schedule: SigningKeySchedule,
    options: { tick?: boolean } = {},
  ): Promise<SigningKeyring> {
    const ring = new SigningKeyring(deps, schedule);
    ring.#unsubscribe = await deps.db.subscribe(TOKEN_KEYS_CHANNEL, () => {
      ring
        .reload()
        .catch((err: Error) => deps.log.warn({ err: err.message }, 'signing key reload failed'));
    });
    await ring.rotate({ wait: true, actor: 'system' });
    await ring.reload();
    if (options.tick !== false) {
      ring.#timer = setInterval(() => void ring.#tick(), signingKeyTickMs(schedule));
      ring.#timer.unref();
    }
    return ring;
  }

  /** The key to sign with. @throws HallmarkError ERR_INTERNAL when none is loaded. */
  signingKey(): ActiveSigningKey {
    if (this.#active === undefined) {
      throw new HallmarkError('ERR_INTERNAL', { detail: 'no active token signing key loaded' });
    }
    return this.#active;
  }

  /**
   * The public key for `kid` if tokens signed with it are still acceptable. An unknown kid
   * reloads the keys first (rate-limited): a replica may see a token from a key activated
   * elsewhere a moment before its NOTIFY arrives.
   */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    let entry = this.#keys.get(kid);
    const now = this.deps.clock.now();
    if (entry === undefined && now - this.#lastUnknownKidReload >= UNKNOWN_KID_RELOAD_MS) {
      this.#lastUnknownKidReload = now;
      await this.reload();
      entry = this.#keys.get(kid);
    }
    if (entry === undefined) return undefined;
    // A key past its retention verifies nothing even before some replica deletes its row.
    return verificationSlots([entry.slot], now, this.schedule).length === 1 ? entry.key : undefined;
  }

  /** Public JWKs of every key that may still verify (for operators and tests). */
  publicJwks(): JWK[] {
    return [...this.#keys.values()].map((entry) => ({ ...entry.slot.publicJwk }));
  }

  /** Re-reads the keys from PostgreSQL; calls are serialised so the last one always wins. */
  reload(): Promise<void> {
    const next = this.#reloads.catch(() => undefined).then(() => this.#load());
    this.#reloads = next;
    return next;
  }

  async #load(): Promise<void> {
    const stored = await loadSigningKeys(this.deps.db, this.deps.master);
    const keys = new Map<string, VerificationKey>();
    for (const slot of verificationSlots(stored, this.deps.clock.now(), this.schedule)) {
      const known = this.#keys.get(slot.kid);
      keys.set(slot.kid, {
        slot,
        key: known?.key ?? (await importVerificationKey(slot.publicJwk)),
      });
    }
    const active = stored.find((slot) => slot.status === 'active');
    this.#keys = keys;
    if (active?.privateKey !== undefined) {
      this.#active =
        this.#active?.kid === active.kid
          ? this.#active
          : { kid: active.kid, privateKey: active.privateKey };
    }
  }

  /**
   * Applies whatever rotation step is due; with `force`, prepares (if needed) and activates a
   * successor at once (operator-initiated rotation, tests). Returns true when this replica
   * changed the key set. `wait: false` skips the round when another replica holds the lock.
   */
  async rotate(options: {
    wait: boolean;
    force?: boolean;
    actor: string;
    requestId?: string;
  }): Promise<boolean> {
    const changes: { action: string; kid: string }[] = [];
    await this.deps.db.transaction(async (client) => {
      if (options.wait) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.tokenKeyRotation]);
      } else {
        const lock = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS ok',
          [ADVISORY_LOCKS.tokenKeyRotation],
        );
        if (!lock.rows[0]?.ok) return;
      }
      const now = this.deps.clock.now();
      if (options.force) await this.#forceRotation(client, now, changes);
      for (let guard = 0; guard < 4; guard++) {
        const step = nextSigningKeyStep(
          await loadSigningKeys(client, this.deps.master),
          now,
          this.schedule,
        );
        if (step.kind === 'none') break;
        await this.#apply(client, step, now, changes);
      }
      if (changes.length > 0) await client.query(`NOTIFY ${TOKEN_KEYS_CHANNEL}`);
    });
    for (const change of changes) {
      this.deps.log.info(change, 'token signing key rotated');
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

  async #forceRotation(
    client: Queryable,
    now: number,
    changes: { action: string; kid: string }[],
  ): Promise<void> {
    let prepared = (await loadSigningKeys(client, this.deps.master)).find(
      (slot) => slot.status === 'prepared',
    );
    if (prepared === undefined) {
      await this.#apply(client, { kind: 'prepare' }, now, changes);
      prepared = (await loadSigningKeys(client, this.deps.master)).find(
        (slot) => slot.status === 'prepared',
      );
    }
    if (prepared !== undefined)
      await this.#apply(client, { kind: 'activate', kid: prepared.kid }, now, changes);
  }

  async #apply(
    client: Queryable,
    step: Exclude<SigningKeyStep, { kind: 'none' }>,
    now: number,
    changes: { action: string; kid: string }[],
  ): Promise<void> {
    if (step.kind === 'bootstrap' || step.kind === 'prepare') {
      const material = await generateSigningKey();
      const status = step.kind === 'bootstrap' ? 'active' : 'prepared';
      await insertSigningKey(client, this.deps.master, material, status, now);
      changes.push({
        action: `token_key.${status === 'active' ? 'activated' : 'prepared'}`,
        kid: material.kid,
      });
    } else if (step.kind === 'activate') {
      await activateSigningKey(client, step.kid, now);
      changes.push({ action: 'token_key.activated', kid: step.kid });
    } else {
      await dropSigningKeys(client, step.kids);
      for (const kid of step.kids) changes.push({ action: 'token_key.dropped', kid });
    }
  }

  async #tick(): Promise<void> {
    try {
      const changed = await this.rotate({ wait: false, actor: 'system' });
      if (!changed) await this.reload();
    } catch (err) {
      this.deps.log.warn(
        { err: (err as Error).message },
        'token signing key rotation check failed',
      );
    }
  }

  /** Stops the ticker and the NOTIFY subscription. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}
