// The foreign trust domains' bundles this workload may trust: received with each SVID, polled
// from GET /v1/bundle/federated at half their refresh hint, written to `federated/<td>.pem`, and
// served by the Workload API — never older than what is already held.
import type { Clock } from '../src/clock/index.js';
import { HallmarkError, isHallmarkError } from '../src/errors/index.js';
import { parseSpiffeBundle, parseTrustDomain } from '../src/spiffe/index.js';
import type { SpiffeBundle } from '../src/spiffe/index.js';
import { encodePem } from '../src/x509/index.js';
import { backoffDelay } from './backoff.js';
import type { RandomSource } from './backoff.js';
import type { IdentityFeed } from './identity-feed.js';
import type { JwtAuthorityJwk } from './jwt-server-api.js';
import type { SidecarLogger } from './phase-change.js';
import { realTimers } from './refresh-loop.js';
import type { Timers } from './refresh-loop.js';
import type { ClientCertificate } from './server-api.js';

/** One foreign trust domain's bundle, ready for files and Workload API messages. */
export interface FederatedBundle {
  /** The trust domain's name (`b.example`). */
  readonly trustDomain: string;
  /** Its SPIFFE ID (`spiffe://b.example`), the key of Workload API bundle maps. */
  readonly id: string;
  readonly sequence: number | undefined;
  readonly refreshHintSeconds: number | undefined;
  /** The X.509 authorities, DER concatenated (Workload API `bytes`). */
  readonly x509Der: Buffer;
  /** The same as PEM (`federated/<td>.pem`). */
  readonly x509Pem: string;
  /** The JWT authorities (for ValidateJWTSVID). */
  readonly jwtKeys: readonly JwtAuthorityJwk[];
  /** `{"keys":[…]}` without `use`, as FetchJWTBundles sends a JWT bundle. */
  readonly jwks: Buffer;
}

/** The server call that returns the workload's federated bundles (over mTLS). */
export interface FederatedBundleApi {
  federatedBundles(
    client: ClientCertificate,
  ): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
}

/** Dependencies of {@link FederatedBundleFeed}. */
export interface FederatedBundleFeedDeps {
  /** This workload's own trust domain never appears among the federated ones. */
  readonly ownTrustDomain?: () => string | undefined;
  /** Writes `federated/<td>.pem` (and removes the files of trust domains no longer held). */
  readonly files?: { writeFederatedBundles(pems: ReadonlyMap<string, string>): Promise<void> };
  readonly log: SidecarLogger;
  readonly clock: Clock;
  /** Polling; without it the feed only takes what the SVID responses bring (`--once`). */
  readonly poll?: {
    readonly api: FederatedBundleApi;
    /** The current SVID to authenticate with, if there is one. */
    readonly client: () => ClientCertificate | undefined;
    readonly timers?: Timers;
    readonly random?: RandomSource;
  };
}

/** Poll bounds: the server refreshes at half the hint too, so a change arrives within one hint. */
const MIN_POLL_MS = 5_000;
const MAX_POLL_MS = 300_000;

function federatedBundleOf(trustDomain: string, bundle: SpiffeBundle): FederatedBundle {
  const jwtKeys = bundle.jwtAuthorities.map(
    (key) => ({ ...key, use: 'jwt-svid' }) as JwtAuthorityJwk,
  );
  return Object.freeze({
    trustDomain,
    id: `spiffe://${trustDomain}`,
    sequence: bundle.sequence,
    refreshHintSeconds: bundle.refreshHintSeconds,
    x509Der: Buffer.concat(bundle.x509Authorities),
    x509Pem: bundle.x509Authorities.map((der) => encodePem(der, 'CERTIFICATE')).join(''),
    jwtKeys,
    jwks: Buffer.from(JSON.stringify({ keys: bundle.jwtAuthorities.map((key) => ({ ...key })) })),
  });
}

function sameBundle(a: FederatedBundle, b: FederatedBundle): boolean {
  return a.sequence === b.sequence && a.x509Der.equals(b.x509Der) && a.jwks.equals(b.jwks);
}

/** Holds the federated bundles and tells listeners when they change. */
export class FederatedBundleFeed {
  #bundles: ReadonlyMap<string, FederatedBundle> = new Map();
  #applying: Promise<void> = Promise.resolve();
  #timer: unknown;
  #failures = 0;
  #stopped = false;
  readonly #timers: Timers;
  readonly #listeners = new Set<(bundles: ReadonlyMap<string, FederatedBundle>) => void>();

  constructor(private readonly deps: FederatedBundleFeedDeps) {
    this.#timers = deps.poll?.timers ?? realTimers;
  }

  /** The bundles held now, by trust domain name. */
  snapshot(): ReadonlyMap<string, FederatedBundle> {
    return this.#bundles;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (bundles: ReadonlyMap<string, FederatedBundle>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Takes the server's answer (the SVID's `federated_bundles`, or a poll's): exactly these
   * trust domains are federated now, and for each the newer of the held and the received bundle
   * is kept (never a lower `spiffe_sequence`). Files are written before listeners hear of it.
   * Calls are serialised, so answers are applied in the order they arrive.
   */
  apply(documents: ReadonlyMap<string, Readonly<Record<string, unknown>>>): Promise<void> {
    const run = this.#applying.then(() => this.#apply(documents));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  /** Starts polling (when configured); the first poll comes at the first bundle's hint. */
  start(): void {
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  async #apply(documents: ReadonlyMap<string, Readonly<Record<string, unknown>>>): Promise<void> {
    const own = this.deps.ownTrustDomain?.();
    const next = new Map<string, FederatedBundle>();
    for (const [name, document] of documents) {
      let trustDomain: string;
      let received: FederatedBundle;
      try {
        trustDomain = parseTrustDomain(name);
        if (trustDomain !== name || trustDomain === own || name === '.' || name === '..') {
          throw new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', { detail: `trust domain "${name}"` });
        }
        received = federatedBundleOf(trustDomain, parseSpiffeBundle(JSON.stringify(document)));
      } catch (err) {
        const detail = isHallmarkError(err) ? (err.detail ?? err.message) : String(err);
        this.deps.log.warn({ trustDomain: name.slice(0, 255), detail }, 'federated bundle ignored');
        const held = this.#bundles.get(name);
        if (held !== undefined) next.set(name, held);
        continue;
      }
      const held = this.#bundles.get(trustDomain);
      const older =
        held?.sequence !== undefined &&
        (received.sequence === undefined || received.sequence < held.sequence);
      next.set(trustDomain, older ? held : received);
    }
    const before = this.#bundles;
    const changed =
      before.size !== next.size ||
      [...next].some(([td, bundle]) => {
        const previous = before.get(td);
        return previous === undefined || !sameBundle(previous, bundle);
      });
    if (!changed) return;
    await this.deps.files?.writeFederatedBundles(
      new Map([...next].map(([td, bundle]) => [td, bundle.x509Pem])),
    );
    this.#bundles = next;
    for (const listener of [...this.#listeners]) listener(next);
    this.#arm();
  }

  #delay(): number | undefined {
    const hints = [...this.#bundles.values()].map((b) => b.refreshHintSeconds ?? 300);
    if (hints.length === 0) return undefined;
    if (this.#failures > 0)
      return backoffDelay(this.#failures, this.deps.poll?.random ?? Math.random);
    return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, (Math.min(...hints) * 1000) / 2));
  }

  #arm(): void {
    if (this.deps.poll === undefined || this.#stopped) return;
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
    const delay = this.#delay();
    // Nothing federated: the next SVID (renewed at half its life) brings any new relationship.
    if (delay === undefined) return;
    this.#timer = this.#timers.set(() => void this.#poll(), delay);
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    const poll = this.deps.poll;
    const client = poll?.client();
    if (poll === undefined || client === undefined || this.#stopped) return this.#arm();
    try {
      await this.apply(await poll.api.federatedBundles(client));
      this.#failures = 0;
    } catch (err) {
      // The bundles held stay in force (their keys were published ahead of use).
      this.#failures++;
      const code = isHallmarkError(err) ? err.code : 'ERR_INTERNAL';
      this.deps.log.warn({ code }, 'federated bundles not refreshed; keeping those held');
    }
    this.#arm();
  }
}

/**
 * The feed a sidecar runs: writing to `store`'s `federated/` files (if it keeps files) and, with
 * an `identity` and an `api`, polling the server with the current SVID.
 */
export function followFederatedBundles(
  store: { writeFederatedBundles?(pems: ReadonlyMap<string, string>): Promise<void> },
  deps: {
    readonly identity?: IdentityFeed;
    readonly api?: FederatedBundleApi;
    readonly log: SidecarLogger;
    readonly clock: Clock;
    readonly timers?: Timers;
    readonly random?: RandomSource;
  },
): FederatedBundleFeed {
  const write = store.writeFederatedBundles?.bind(store);
  const { identity, api } = deps;
  return new FederatedBundleFeed({
    ownTrustDomain: () => identity?.snapshot().latest?.spiffeId.trustDomain,
    files: write === undefined ? undefined : { writeFederatedBundles: write },
    log: deps.log,
    clock: deps.clock,
    poll:
      identity === undefined || api === undefined
        ? undefined
        : {
            api,
            client: () => {
              const svid = identity.snapshot().svid;
              return svid && { chainPem: svid.chainPem, keyPem: svid.keyPem };
            },
            timers: deps.timers,
            random: deps.random,
          },
  });
}
