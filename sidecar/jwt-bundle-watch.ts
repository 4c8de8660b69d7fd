// The JWT bundle the sidecar knows: fetched from GET /v1/bundle when asked for, polled at the
// bundle's refresh hint while a FetchJWTBundles stream is open, kept when the server is away.
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import { backoffDelay } from './backoff.js';
import type { RandomSource } from './backoff.js';
import type { JwtAuthorityJwk, JwtServerApi } from './jwt-server-api.js';
import { realTimers } from './refresh-loop.js';
import type { Timers } from './refresh-loop.js';

/** A fetched JWT bundle. */
export interface JwtBundle {
  readonly keys: readonly JwtAuthorityJwk[];
  /**
   * The JWK Set document (`{"keys":[…]}`, UTF-8) as `FetchJWTBundles` sends it: the keys without
   * their `use` member, as SPIRE and go-spiffe serialise JWT bundles, so that the JWT libraries
   * of legacy validators (§6.3) accept them (jose skips keys whose `use` is not `sig`).
   */
  readonly jwks: Buffer;
  /** When it was fetched (ms). */
  readonly fetchedAt: number;
  /** How long it may be used before fetching again (ms). */
  readonly maxAgeMs: number;
}

/** What a subscriber hears: a changed bundle, or why there is none at all. */
export type JwtBundleUpdate =
  | { readonly bundle: JwtBundle; readonly error?: undefined }
  | { readonly bundle?: undefined; readonly error: HallmarkError };

/** Dependencies of {@link JwtBundleWatch}. */
export interface JwtBundleWatchDeps {
  readonly api: Pick<JwtServerApi, 'jwtAuthorities'>;
  readonly clock: Clock;
  readonly timers?: Timers;
  /** Jitter of the retry backoff; default `Math.random`. */
  readonly random?: RandomSource;
}

/**
 * Bounds on the refresh hint: the server clamps it to 5–300 s already, and its JWT authorities
 * are published 5 minutes before they sign, so polling at the hint never misses a new key.
 */
const MIN_MAX_AGE_MS = 5_000;
const MAX_MAX_AGE_MS = 300_000;

/** Caches and watches the trust domain's JWT authorities. */
export class JwtBundleWatch {
  private cached: JwtBundle | undefined;
  private fetching: Promise<JwtBundle> | undefined;
  private failures = 0;
  private timer: unknown;
  private stopped = false;
  private readonly timers: Timers;
  private readonly listeners = new Set<(update: JwtBundleUpdate) => void>();

  constructor(private readonly deps: JwtBundleWatchDeps) {
    this.timers = deps.timers ?? realTimers;
  }

  /**
   * The bundle, fetched again when it is older than `maxAgeMs` (default: its refresh hint).
   * When the server cannot be reached an older bundle is still returned — the keys it holds
   * stay published past their use — and only having none at all is an error.
   * @throws HallmarkError from the transport (`ERR_SIDECAR_SERVER_UNREACHABLE`, …).
   */
  async current(maxAgeMs?: number): Promise<JwtBundle> {
    const cached = this.cached;
    const limit = maxAgeMs ?? cached?.maxAgeMs ?? 0;
    if (cached !== undefined && this.deps.clock.now() - cached.fetchedAt < limit) return cached;
    try {
      return await this.fetch();
    } catch (err) {
      if (this.cached !== undefined) return this.cached;
      throw err;
    }
  }

  /**
   * Calls `listener` with the bundle at once (fetching it if needed), then with every changed
   * bundle; polls while anyone listens. If no bundle can be had at all, the listener hears the
   * error (a stream then ends with Unavailable and the client retries). Returns the unsubscribe.
   */
  subscribe(listener: (update: JwtBundleUpdate) => void): () => void {
    this.listeners.add(listener);
    const unsubscribe = (): void => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.disarm();
    };
    this.current().then(
      (bundle) => {
        if (!this.listeners.has(listener)) return;
        // A poll may have replaced the bundle meanwhile (and told this listener): send the newest.
        listener({ bundle: this.cached ?? bundle });
        this.arm();
      },
      (err: unknown) => {
        if (!this.listeners.has(listener)) return;
        listener({ error: asHallmarkError(err) });
      },
    );
    return unsubscribe;
  }

  /** Stops polling and drops every listener. */
  stop(): void {
    this.stopped = true;
    this.listeners.clear();
    this.disarm();
  }

  private fetch(): Promise<JwtBundle> {
    this.fetching ??= this.deps.api
      .jwtAuthorities()
      .then((authorities) => {
        const previous = this.cached;
        const jwks = Buffer.from(
          JSON.stringify({ keys: authorities.keys.map(({ use: _use, ...key }) => key) }),
        );
        const maxAgeMs = Math.min(
          Math.max(authorities.refreshHintMs, MIN_MAX_AGE_MS),
          MAX_MAX_AGE_MS,
        );
        const bundle: JwtBundle = { keys: authorities.keys, jwks, fetchedAt: this.now(), maxAgeMs };
        this.cached = bundle;
        this.failures = 0;
        // @see SPIFFE Workload API §4.3: a message per change, each with the full set.
        if (previous !== undefined && !previous.jwks.equals(jwks)) this.broadcast({ bundle });
        return bundle;
      })
      .finally(() => {
        this.fetching = undefined;
      });
    return this.fetching;
  }

  private now(): number {
    return this.deps.clock.now();
  }

  private broadcast(update: JwtBundleUpdate): void {
    for (const listener of [...this.listeners]) listener(update);
  }

  private arm(): void {
    if (this.stopped || this.timer !== undefined || this.listeners.size === 0) return;
    const cached = this.cached;
    const delay =
      this.failures > 0
        ? backoffDelay(this.failures, this.deps.random ?? Math.random)
        : cached === undefined
          ? 0
          : cached.fetchedAt + cached.maxAgeMs - this.now();
    this.timer = this.timers.set(() => void this.poll(), Math.max(delay, 0));
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    try {
      await this.fetch();
    } catch {
      // The last bundle stays in force; the next attempt backs off (1 s doubling to 30 s).
      this.failures++;
    }
    this.arm();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }
}

function asHallmarkError(err: unknown): HallmarkError {
  if (err instanceof HallmarkError) return err;
  return new HallmarkError('ERR_INTERNAL', { detail: (err as Error)?.message, cause: err });
}
