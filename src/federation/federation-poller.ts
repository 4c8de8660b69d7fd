// The refresh of foreign bundles: one replica at a time (an advisory lock) brings the table in
// line with the policy's relationships, fetches every endpoint that is due, keeps each newer
// bundle and records every refusal, all in one transaction with its audit rows.
import { X509Certificate } from 'node:crypto';
import type { AuditEvent, AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError, isHallmarkError, type ErrorCode } from '../errors/index.js';
import { fetchBundleDocument, type EndpointProfile } from './bundle-endpoint-client.js';
import {
  decideBundleUpdate,
  refreshDelayMs,
  retryDelayMs,
  type BundleUpdate,
} from './bundle-update.js';
import { FEDERATION_CHANNEL, type FederatedBundleCache } from './federated-bundle-cache.js';
import {
  deleteRelationship,
  insertRelationship,
  loadFederatedBundles,
  recordFailure,
  recordUnchanged,
  storeBundle,
  type FederatedBundleRow,
} from './federated-bundle-table.js';
import type { FederationRelationship } from './federation-relationship.js';
import { checkBundleTrustDomain, parseSpiffeBundle, type SpiffeBundle } from '../spiffe/index.js';

/** Told about every fetch (the metrics). */
export interface FederationObserver {
  refreshed(trustDomain: string, outcome: 'updated' | 'unchanged'): void;
  failed(trustDomain: string, code: ErrorCode): void;
}

/** What the poller needs from the composition root. */
export interface FederationPollerDeps {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  readonly cache: FederatedBundleCache;
  /** The policy's `federation` section, as in force now. */
  readonly relationships: () => readonly FederationRelationship[];
  /** `HALLMARK_FEDERATION_WEB_CA`: roots trusted for `https_web` besides the public ones. */
  readonly webRootsPem?: readonly string[];
  readonly observer?: FederationObserver;
}

/** How often the poller looks whether anything is due (in memory; no query unless it is). */
const TICK_MS = 1_000;
const ACTOR = 'system';

type Outcome = { decision: BundleUpdate; fetched?: SpiffeBundle };

/** Codes that are a refusal of what the endpoint sent, audited every time. */
const REFUSALS = new Set<ErrorCode>([
  'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED',
  'ERR_FEDERATION_BUNDLE_MALFORMED',
  'ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH',
  'ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED',
]);

/** Keeps the federated bundles fresh; runs on every replica, refreshes on one at a time. */
export class FederationPoller {
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<boolean> | undefined;
  readonly #abort = new AbortController();

  constructor(private readonly deps: FederationPollerDeps) {}

  /** Starts looking every second for relationships that are due. */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#round === undefined && this.#due()) void this.refresh().catch(() => undefined);
    }, TICK_MS);
    this.#timer.unref();
  }

  /** Stops the ticker and aborts fetches in flight; resolves once the round has ended. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#abort.abort();
    await this.#round?.catch(() => undefined);
  }

  /**
   * One round now: resolves true when this replica held the lock and ran it, false when
   * another replica is running one. Concurrent calls share the round in flight.
   */
  refresh(): Promise<boolean> {
    this.#round ??= this.#run().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  /** True when the policy and the kept rows disagree, or an endpoint is due (memory only). */
  #due(): boolean {
    const relationships = this.deps.relationships();
    const rows = this.deps.cache.rows();
    if (rows.length !== relationships.length) return true;
    const now = this.deps.clock.now();
    return relationships.some((relationship) => {
      const row = rows.find((r) => r.trustDomain === relationship.trustDomain);
      return (
        row === undefined ||
        row.refreshAfter <= now ||
        (relationship.bootstrapSha256 !== undefined &&
          relationship.bootstrapSha256 !== row.bootstrapSha256)
      );
    });
  }

  async #run(): Promise<boolean> {
    const ran = await this.deps.db.transaction(async (tx) => {
      const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        ADVISORY_LOCKS.federationRefresh,
      ]);
      if (lock.rows[0]?.ok !== true) return false;
      const events: AuditEvent[] = [];
      const relationships = new Map(this.deps.relationships().map((r) => [r.trustDomain, r]));
      let changed = await this.#align(tx, relationships, events);
      const now = this.deps.clock.now();
      const due = (await loadFederatedBundles(tx, true)).filter(
        (row) => relationships.has(row.trustDomain) && row.refreshAfter <= now,
      );
      const outcomes = await Promise.all(
        due.map((row) => this.#fetch(relationships.get(row.trustDomain)!, row)),
      );
      for (const [i, row] of due.entries()) {
        await this.#apply(tx, row, outcomes[i]!, relationships.get(row.trustDomain)!, events);
        changed = true;
      }
      if (changed) await tx.query(`NOTIFY ${FEDERATION_CHANNEL}`);
      await this.#audit(tx, events);
      return true;
    });
    if (ran) await this.deps.cache.reload();
    return ran;
  }

  /** Rows for new relationships (with their bootstrap bundle), none for dropped ones. */
  async #align(
    tx: Queryable,
    relationships: ReadonlyMap<string, FederationRelationship>,
    events: AuditEvent[],
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const rows = await loadFederatedBundles(tx, true);
    let changed = false;
    for (const row of rows) {
      if (relationships.has(row.trustDomain)) continue;
      await deleteRelationship(tx, row.trustDomain);
      events.push(this.#event('federation.bundle.removed', row.trustDomain, 'success'));
      changed = true;
    }
    for (const relationship of relationships.values()) {
      const row = rows.find((r) => r.trustDomain === relationship.trustDomain);
      const bootstrap =
        relationship.bootstrapBundle === undefined || relationship.bootstrapSha256 === undefined
          ? undefined
          : { bundle: relationship.bootstrapBundle, sha256: relationship.bootstrapSha256 };
      if (row === undefined) {
        await insertRelationship(tx, relationship.trustDomain, bootstrap, now);
        if (bootstrap !== undefined) {
          events.push(
            this.#event('federation.bundle.bootstrapped', relationship.trustDomain, 'success'),
          );
        }
        changed = true;
      } else if (bootstrap !== undefined && row.bootstrapSha256 !== bootstrap.sha256) {
        await storeBundle(tx, relationship.trustDomain, {
          bundle: bootstrap.bundle,
          source: 'bootstrap',
          bootstrapSha256: bootstrap.sha256,
          now,
          refreshAfter: now,
        });
        events.push(
          this.#event('federation.bundle.bootstrapped', relationship.trustDomain, 'success'),
        );
        changed = true;
      }
    }
    return changed;
  }

  /** Fetches, parses and judges one endpoint's bundle; never throws. */
  async #fetch(relationship: FederationRelationship, row: FederatedBundleRow): Promise<Outcome> {
    try {
      const text = await fetchBundleDocument({
        url: relationship.bundleEndpointUrl,
        profile: this.#profile(relationship, row),
        clock: this.deps.clock,
        signal: this.#abort.signal,
      });
      const fetched = parseSpiffeBundle(text);
      checkBundleTrustDomain(fetched, relationship.trustDomain);
      const kept =
        row.bundle === undefined || row.source === undefined
          ? undefined
          : { bundle: row.bundle, source: row.source };
      return { decision: decideBundleUpdate(kept, fetched), fetched };
    } catch (err) {
      const failure = isHallmarkError(err)
        ? err
        : new HallmarkError('ERR_FEDERATION_ENDPOINT_UNREACHABLE', { cause: err });
      return {
        decision: { kind: 'refuse', code: failure.code, detail: failure.detail ?? failure.message },
      };
    }
  }

  #profile(relationship: FederationRelationship, row: FederatedBundleRow): EndpointProfile {
    if (relationship.profile === 'https_web') {
      return { kind: 'https_web', extraRootsPem: this.deps.webRootsPem };
    }
    // Federation §5.2.2.4: the bootstrap bundle first, then the latest fetched one.
    const authoritiesPem = (row.bundle?.x509Authorities ?? []).map((der) =>
      new X509Certificate(der).toString(),
    );
    if (authoritiesPem.length === 0 || relationship.endpointSpiffeId === undefined) {
      throw new HallmarkError('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED', {
        detail: 'no X.509 authority kept to authenticate the https_spiffe endpoint with',
      });
    }
    return {
      kind: 'https_spiffe',
      endpointSpiffeId: relationship.endpointSpiffeId,
      authoritiesPem,
    };
  }

  async #apply(
    tx: Queryable,
    row: FederatedBundleRow,
    outcome: Outcome,
    relationship: FederationRelationship,
    events: AuditEvent[],
  ): Promise<void> {
    const td = row.trustDomain;
    const now = this.deps.clock.now();
    const { decision, fetched } = outcome;
    if (decision.kind !== 'refuse' && fetched !== undefined) {
      const refreshAfter = now + refreshDelayMs(fetched.refreshHintSeconds);
      if (decision.kind === 'store') {
        await storeBundle(tx, td, { bundle: fetched, source: 'endpoint', now, refreshAfter });
        const sequence = fetched.sequence ?? 'none';
        events.push(
          this.#event('federation.bundle.updated', `${td} sequence=${sequence}`, 'success'),
        );
        this.deps.log.info({ trustDomain: td, sequence }, 'federated bundle updated');
      } else {
        await recordUnchanged(tx, td, now, refreshAfter);
      }
      this.deps.observer?.refreshed(td, decision.kind === 'store' ? 'updated' : 'unchanged');
      return;
    }
    if (decision.kind !== 'refuse') return;
    const kept =
      row.bundle === undefined || row.source === undefined
        ? undefined
        : { bundle: row.bundle, source: row.source };
    await recordFailure(tx, td, {
      code: decision.code,
      now,
      refreshAfter: now + retryDelayMs(kept, row.failures + 1),
    });
    this.deps.observer?.failed(td, decision.code);
    this.deps.log.warn(
      { trustDomain: td, code: decision.code, detail: decision.detail },
      'federated bundle refresh failed; the last good bundle stays',
    );
    // A refusal of what the endpoint sent is audited each time; an endpoint that stays down
    // is audited when it goes down (or fails differently), not on every retry.
    const repeated = row.failures > 0 && row.lastError === decision.code;
    if (REFUSALS.has(decision.code) || !repeated) {
      events.push({
        ...this.#event(
          'federation.bundle.refused',
          `${td} ${relationship.bundleEndpointUrl}`.slice(0, 512),
          REFUSALS.has(decision.code) ? 'denied' : 'error',
        ),
        reason: decision.code,
      });
    }
  }

  #event(action: AuditEvent['action'], target: string, outcome: AuditEvent['outcome']): AuditEvent {
    return { actor: ACTOR, action, target, outcome };
  }

  /**
   * The round's audit rows, staged in its transaction: they commit exactly when its changes
   * do, and a row that cannot be written rolls the round back.
   */
  async #audit(tx: Queryable, events: readonly AuditEvent[]): Promise<void> {
    if (events.length > 0) await this.deps.audit.stage(tx, events);
  }
}
