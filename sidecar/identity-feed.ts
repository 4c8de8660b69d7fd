// The identity the Workload API serves: the SVID the refresh loop last wrote, whether it is still
// valid and why not, with an event on every change (renewal, expiry, refusal, stop).
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import type { ObtainedSvid } from './credential-source.js';
import { realTimers } from './refresh-loop.js';
import type { Timers } from './refresh-loop.js';
import { isDefinitiveRefusal } from './server-api.js';
import { workloadSvidOf } from './workload-svid.js';
import type { WorkloadSvid } from './workload-svid.js';

/** What can be served at one instant. */
export interface IdentitySnapshot {
  /** The SVID to serve: set while the latest one is unexpired. */
  readonly svid: WorkloadSvid | undefined;
  /** The latest SVID obtained, valid or not: its trust domain and bundle outlive it. */
  readonly latest: WorkloadSvid | undefined;
  /**
   * Why there is no `svid`: `ERR_WORKLOADAPI_SVID_UNAVAILABLE` (expired while renewal fails,
   * or withdrawn because its CA was distrusted),
   * `ERR_WORKLOADAPI_NOT_ENTITLED` (the server refused definitively) or
   * `ERR_WORKLOADAPI_STOPPING`. Undefined while the first SVID is still awaited.
   */
  readonly error: HallmarkError | undefined;
}

/** Dependencies of {@link IdentityFeed}. */
export interface IdentityFeedDeps {
  readonly clock: Clock;
  /** Wakes the feed at expiry; default the process's timers. */
  readonly timers?: Timers;
}

/** Longest single timer; a longer wait is re-armed on waking (setTimeout overflows at 2^31 ms). */
const MAX_TIMER_MS = 3_600_000;

/** Listens to the refresh loop and tells the Workload API's calls what to serve. */
export class IdentityFeed {
  private newest: WorkloadSvid | undefined;
  private refusal: HallmarkError | undefined;
  /** The newest SVID when it was withdrawn (its CA distrusted), and why. */
  private withdrawn: { svid: WorkloadSvid; error: HallmarkError } | undefined;
  private closed = false;
  private timer: unknown;
  private readonly timers: Timers;
  private readonly listeners = new Set<(snapshot: IdentitySnapshot) => void>();

  constructor(private readonly deps: IdentityFeedDeps) {
    this.timers = deps.timers ?? realTimers;
  }

  /** What to serve now, by the clock. */
  snapshot(): IdentitySnapshot {
    const latest = this.newest;
    if (this.closed) {
      return { svid: undefined, latest, error: new HallmarkError('ERR_WORKLOADAPI_STOPPING') };
    }
    if (latest !== undefined && latest === this.withdrawn?.svid) {
      return { svid: undefined, latest, error: this.withdrawn.error };
    }
    if (latest !== undefined && this.deps.clock.now() < latest.expiresAt) {
      return { svid: latest, latest, error: undefined };
    }
    if (this.refusal !== undefined) {
      // @see SPIFFE Workload API §5.2.1: a client not entitled to any SVID gets PermissionDenied.
      const error = new HallmarkError('ERR_WORKLOADAPI_NOT_ENTITLED', {
        message: `the Hallmark server refused this workload an identity (${this.refusal.code})`,
        detail: this.refusal.detail,
        cause: this.refusal,
      });
      return { svid: undefined, latest, error };
    }
    if (latest === undefined) return { svid: undefined, latest, error: undefined };
    const error = new HallmarkError('ERR_WORKLOADAPI_SVID_UNAVAILABLE', {
      message: 'the X509-SVID expired while renewal fails; retry with backoff',
      detail: `expired at ${new Date(latest.expiresAt).toISOString()}`,
    });
    return { svid: undefined, latest, error };
  }

  /**
   * Calls `listener` with a new snapshot whenever what is served may have changed; returns the
   * unsubscribe function. Listeners compare with what they last sent themselves.
   */
  subscribe(listener: (snapshot: IdentitySnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new SVID was obtained and its files written: serve it. */
  publish(obtained: ObtainedSvid): void {
    if (this.closed) return;
    this.newest = workloadSvidOf(obtained);
    this.refusal = undefined;
    this.armExpiry();
    this.notify();
  }

  /**
   * The SVID `chainPem` was signed by a distrusted CA: if it is the newest, it is served no
   * more (streams end with Unavailable, so clients drop it and retry) until a new one is
   * published. Its bundle is still served.
   */
  withdraw(chainPem: string, reason: HallmarkError): void {
    const svid = this.newest;
    if (this.closed || svid === undefined || svid.chainPem !== chainPem) return;
    if (this.withdrawn?.svid === svid) return;
    const error = new HallmarkError('ERR_WORKLOADAPI_SVID_UNAVAILABLE', {
      message: 'the X509-SVID was signed by a distrusted CA; a new one is being obtained',
      detail: reason.detail,
      cause: reason,
    });
    this.withdrawn = { svid, error };
    this.notify();
  }

  /**
   * An SVID renewal failed. Only a decision (a 4xx other than 429) changes what is served, and
   * only once the current SVID has expired; an outage leaves the SVID, or the wait, as it is.
   */
  noteFailure(error: HallmarkError): void {
    if (this.closed || !isDefinitiveRefusal(error)) return;
    this.refusal = error;
    this.notify();
  }

  /** The sidecar stops: every listener hears `ERR_WORKLOADAPI_STOPPING`, then is dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.notify();
    this.listeners.clear();
  }

  private armExpiry(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    const svid = this.newest;
    if (svid === undefined || this.closed) return;
    const delay = svid.expiresAt - this.deps.clock.now();
    if (delay <= 0) return;
    this.timer = this.timers.set(
      () => {
        this.timer = undefined;
        // Streams must stop serving an expired SVID when it expires, not at the next event.
        if (this.deps.clock.now() >= svid.expiresAt) this.notify();
        else this.armExpiry();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
  }

  private notify(): void {
    const snapshot = this.snapshot();
    for (const listener of [...this.listeners]) listener(snapshot);
  }
}
