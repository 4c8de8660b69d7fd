// The CA service: keeps the active signing CA and the published bundle, rotating on schedule.
import type { AuditLog, NamedAuditAction } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { MasterKey } from '../crypto/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { prepareAuthority, type PreparedAuthority } from '../x509/index.js';
import { createCaMaterial, type CaKeyType, type UpstreamAuthority } from './ca-material.js';
import {
  activateCa,
  bumpBundleSequence,
  insertCa,
  loadCas,
  readBundleSequence,
  type LoadedCa,
} from './ca-store.js';
import { nextRotationStep, publishedSlots, rotationTickMs } from './rotation-schedule.js';

/** NOTIFY channel on which replicas learn that the CA set changed. */
export const CA_CHANNEL = 'hallmark_ca';

/** The trust bundle as published: every unexpired CA (or the upstream roots). */
export interface TrustBundle {
  /** PEM certificates of the trust anchors. */
  readonly certificatesPem: readonly string[];
  readonly sequence: number;
  /** Seconds clients should wait before fetching the bundle again. */
  readonly refreshHintSeconds: number;
}

/** Settings of the CA. */
export interface CaSettings {
  trustDomain: string;
  keyType: CaKeyType;
  ttlSeconds: number;
  upstream: UpstreamAuthority | undefined;
}

/** Dependencies of the CA. */
export interface CaDeps {
  db: Database;
  master: MasterKey;
  clock: Clock;
  audit: AuditLog;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/**
 * Owns CA state in memory, loaded from PostgreSQL. Exactly one replica changes it at a
 * time (advisory lock); the others reload on NOTIFY and on every tick, so all replicas sign
 * with the same active CA and publish the same bundle.
 */
export class CertificateAuthority {
  #cas: LoadedCa[] = [];
  /** The active CA, parsed once: issuance is the hot path and must not re-parse it. */
  #active: { id: number; authority: PreparedAuthority } | undefined;
  #sequence = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #listeners = new Set<() => void>();

  private constructor(
    private readonly deps: CaDeps,
    private readonly settings: CaSettings,
  ) {}

  /** Loads (bootstrapping on first start) the CA and starts the rotation ticker. */
  static async start(
    deps: CaDeps,
    settings: CaSettings,
    options: { tick?: boolean } = {},
  ): Promise<CertificateAuthority> {
    const ca = new CertificateAuthority(deps, settings);
    ca.#unsubscribe = await deps.db.subscribe(
      CA_CHANNEL,
      () => void ca.reload().catch(() => undefined),
    );
    // The first step waits for the lock, so a replica starting beside another never signs
    // with nothing: it blocks until the other has bootstrapped, then loads that CA.
    await ca.rotate({ wait: true, actor: 'system' });
    await ca.reload();
    if (options.tick !== false) {
      ca.#timer = setInterval(() => {
        void ca
          .rotate({ wait: false, actor: 'system' })
          .catch((err: Error) => deps.log.warn({ err: err.message }, 'CA rotation check failed'));
      }, rotationTickMs(settings.ttlSeconds));
      ca.#timer.unref();
    }
    return ca;
  }

  /** The CA that signs now (its database id is recorded with every certificate it signs). */
  signingAuthority(): { id: number; authority: PreparedAuthority } {
    if (!this.#active)
      throw new HallmarkError('ERR_CA_UNAVAILABLE', { detail: 'no active CA loaded' });
    return this.#active;
  }

  /** The published trust bundle. */
  bundle(): TrustBundle {
    const now = this.deps.clock.now();
    const anchors = this.settings.upstream
      ? [this.settings.upstream.rootPem]
      : publishedSlots(this.#cas, now).map((ca) => ca.certificatePem);
    return {
      certificatesPem: anchors,
      sequence: this.#sequence,
      refreshHintSeconds: Math.max(5, Math.min(300, Math.floor(this.settings.ttlSeconds / 12))),
    };
  }

  /** Every loaded CA (for tests and operators). */
  authorities(): readonly Pick<
    LoadedCa,
    'id' | 'status' | 'notBefore' | 'notAfter' | 'certificatePem'
  >[] {
    return this.#cas;
  }

  /** Called after any change of the active CA or the bundle. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads CA state from PostgreSQL. */
  async reload(): Promise<void> {
    const [cas, sequence] = await Promise.all([
      loadCas(this.deps.db, this.deps.master),
      readBundleSequence(this.deps.db),
    ]);
    const before = this.#fingerprint();
    this.#cas = cas;
    this.#sequence = sequence;
    const active = cas.find((ca) => ca.status === 'active');
    if (active && active.id !== this.#active?.id) {
      this.#active = {
        id: active.id,
        authority: prepareAuthority({
          certificatePem: active.certificatePem,
          privateKey: active.privateKey,
          chainPem: active.chainPem,
        }),
      };
    }
    if (this.#fingerprint() !== before) for (const listener of this.#listeners) listener();
  }

  /**
   * Applies whatever rotation step is due (or, with `force`, prepares and activates a new CA
   * at once). Returns true when this replica changed the CA set.
   */
  async rotate(options: {
    wait: boolean;
    force?: boolean;
    actor: string;
    requestId?: string;
  }): Promise<boolean> {
    const changes: NamedAuditAction[] = [];
    await this.deps.db.transaction(async (client) => {
      if (options.wait) {
        await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.caRotation]);
      } else {
        const lock = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1) AS ok',
          [ADVISORY_LOCKS.caRotation],
        );
        if (!lock.rows[0]?.ok) return;
      }
      const now = this.deps.clock.now();
      let cas = await loadCas(client, this.deps.master);
      if (options.force) {
        if (!cas.some((ca) => ca.status === 'prepared'))
          await this.#create(client, 'prepared', now);
        cas = await loadCas(client, this.deps.master);
        const prepared = cas.find((ca) => ca.status === 'prepared') as LoadedCa;
        await activateCa(client, prepared.id, now);
        changes.push('ca.prepared', 'ca.activated');
      } else {
        for (let guard = 0; guard < 3; guard++) {
          const step = nextRotationStep(cas, now);
          if (step.kind === 'none') break;
          if (step.kind === 'bootstrap') await this.#create(client, 'active', now);
          if (step.kind === 'prepare') await this.#create(client, 'prepared', now);
          if (step.kind === 'activate') await activateCa(client, step.id, now);
          changes.push(
            step.kind === 'bootstrap'
              ? 'ca.created'
              : step.kind === 'prepare'
                ? 'ca.prepared'
                : 'ca.activated',
          );
          cas = await loadCas(client, this.deps.master);
        }
      }
      // spiffe_sequence moves exactly when the set of published anchors changes, which
      // includes an old CA dropping out at expiry, not only rotation steps.
      const published = publishedSlots(cas, now)
        .map((ca) => ca.id)
        .join(',');
      const stored = await client.query<{ published: string }>(
        'SELECT published FROM bundle_state',
      );
      if (stored.rows[0]?.published !== published) {
        await client.query('UPDATE bundle_state SET published = $1', [published]);
        await bumpBundleSequence(client);
      }
      if (changes.length > 0 || stored.rows[0]?.published !== published) {
        await client.query(`NOTIFY ${CA_CHANNEL}`);
      }
      // Staged in the rotation's transaction: a CA change commits with its rows or not at all.
      if (changes.length > 0) {
        await this.deps.audit.stage(
          client,
          changes.map((action) => ({
            actor: options.actor,
            action,
            target: `spiffe://${this.settings.trustDomain}`,
            outcome: 'success' as const,
            requestId: options.requestId,
          })),
        );
      }
    });
    for (const action of changes) this.deps.log.info({ action }, 'certificate authority rotated');
    if (changes.length > 0) await this.reload();
    return changes.length > 0;
  }

  async #create(client: Queryable, status: 'active' | 'prepared', now: number): Promise<void> {
    const material = createCaMaterial(this.settings, this.deps.clock);
    await insertCa(client, this.deps.master, {
      status,
      keyType: this.settings.keyType,
      now,
      ...material,
    });
  }

  #fingerprint(): string {
    return `${this.#sequence}|${this.#cas.map((ca) => `${ca.id}:${ca.status}`).join(',')}`;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}
