// The refresh loop: the thin I/O shell around the schedule — one timer, the steps the plan
// says are due, files written, one event per phase change.
import type { Clock } from '../src/clock/index.js';
import { HallmarkError } from '../src/errors/index.js';
import type { BackoffPolicy, RandomSource } from './backoff.js';
import type { CredentialStore, SvidFiles } from './credential-files.js';
import type { CredentialSource } from './credential-source.js';
import { describePhaseChange, labelOf } from './phase-change.js';
import type { PhaseChange, SidecarLogger } from './phase-change.js';
import {
  INITIAL_REFRESH_STATE,
  SVID_RENEWAL_FRACTION,
  TOKEN_RENEWAL_FRACTION,
  lifetimeOf,
  phaseOf,
  planRefresh,
  withFailure,
  withSuccess,
  withSvid,
  withSvidDistrusted,
  withToken,
  withTokenRemoved,
} from './refresh-schedule.js';
import type { RefreshState, SidecarPhase } from './refresh-schedule.js';

/** Timer functions, injected so unit tests drive the loop by hand. */
export interface Timers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** The process's timers. */
export const realTimers: Timers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Which credential an attempt was for. */
export type CredentialKind = 'svid' | 'token';

/** The outcome of one attempt to obtain and write a credential. */
export interface RefreshAttempt {
  readonly credential: CredentialKind;
  /** Undefined on success. */
  readonly error: HallmarkError | undefined;
  readonly at: number;
}

/** Dependencies of {@link RefreshLoop}. */
export interface RefreshLoopDeps {
  readonly source: CredentialSource;
  readonly store: CredentialStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: SidecarLogger;
  readonly timers?: Timers;
  readonly backoff?: BackoffPolicy;
}

/** Longest single timer; the plan is simply recomputed on waking (setTimeout overflows at 2^31 ms). */
const MAX_TIMER_MS = 3_600_000;
/** Shortest re-arm after a step: every step makes progress, but a spin must stay impossible. */
const MIN_REARM_MS = 50;

function asHallmarkError(err: unknown): HallmarkError {
  if (err instanceof HallmarkError) return err;
  return new HallmarkError('ERR_INTERNAL', { detail: (err as Error)?.message, cause: err });
}

/** Keeps the credentials fresh; see {@link planRefresh} for when it acts. */
export class RefreshLoop {
  private current: RefreshState = INITIAL_REFRESH_STATE;
  private phaseNow: SidecarPhase | undefined;
  private svidFiles: SvidFiles | undefined;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly timers: Timers;
  private readonly phaseListeners = new Set<(change: PhaseChange) => void>();
  private readonly attemptListeners = new Set<(attempt: RefreshAttempt) => void>();
  private readonly distrustListeners = new Set<(chainPem: string, reason: HallmarkError) => void>();

  constructor(private readonly deps: RefreshLoopDeps) {
    this.timers = deps.timers ?? realTimers;
  }

  /** The saved schedule state (immutable snapshot). */
  get state(): RefreshState {
    return this.current;
  }

  /** The phase as of the last step (`undefined` before {@link start}). */
  get phase(): SidecarPhase | undefined {
    return this.phaseNow;
  }

  /** Calls `listener` on every phase change; returns the unsubscribe function. */
  onPhaseChange(listener: (change: PhaseChange) => void): () => void {
    this.phaseListeners.add(listener);
    return () => this.phaseListeners.delete(listener);
  }

  /** Calls `listener` after every attempt (for metrics and `--once`). */
  onAttempt(listener: (attempt: RefreshAttempt) => void): () => void {
    this.attemptListeners.add(listener);
    return () => this.attemptListeners.delete(listener);
  }

  /**
   * Calls `listener` with the chain of an SVID found distrusted, before it is renewed (the
   * Workload API stops serving it). Returns the unsubscribe function.
   */
  onSvidDistrusted(listener: (chainPem: string, reason: HallmarkError) => void): () => void {
    this.distrustListeners.add(listener);
    return () => this.distrustListeners.delete(listener);
  }

  /**
   * The SVID `chainPem` was signed by a CA that is no longer trusted: if it is still the
   * current one, listeners hear of it and it is renewed at once. A stale report (the SVID was
   * renewed meanwhile) changes nothing.
   */
  svidDistrusted(chainPem: string, reason: HallmarkError): void {
    if (this.stopped || this.svidFiles?.chainPem !== chainPem) return;
    for (const listener of this.distrustListeners) listener(chainPem, reason);
    this.current = withSvidDistrusted(this.current, this.deps.clock.now());
    // Inside a step this returns that step, which re-arms for the renewal when it ends.
    void this.tick();
  }

  /** Reports `starting` and runs the first step at once. */
  start(): void {
    this.notePhase();
    this.arm(0);
  }

  /** Stops the timer and any call in flight; files are left as they are. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running;
  }

  /**
   * Does whatever is due now, then arms the timer for the next wake-up. Never rejects.
   * Concurrent calls share the step in progress.
   */
  tick(): Promise<void> {
    if (this.running) return this.running;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.running = this.step().finally(() => {
      this.running = undefined;
      const now = this.deps.clock.now();
      this.arm(Math.max(planRefresh(this.current, now).wakeAt - now, MIN_REARM_MS));
    });
    return this.running;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.timers.set(
      () => {
        this.timer = undefined;
        void this.tick();
      },
      Math.min(Math.max(delayMs, 0), MAX_TIMER_MS),
    );
  }

  private async step(): Promise<void> {
    if (this.stopped) return;
    const plan = planRefresh(this.current, this.deps.clock.now());
    if (plan.removeToken) await this.removeToken();
    let failure: HallmarkError | undefined;
    if (plan.renewSvid) failure = await this.renewSvid();
    if (plan.renewToken && !this.stopped) {
      // Login needs a valid SVID; when there is none the SVID failure already explains why.
      const svid = this.current.svid;
      if (
        this.svidFiles !== undefined &&
        svid !== undefined &&
        this.deps.clock.now() < svid.expiresAt
      ) {
        failure = (await this.renewToken(this.svidFiles)) ?? failure;
      }
    }
    if (this.stopped) return;
    if (plan.renewSvid || plan.renewToken) {
      const now = this.deps.clock.now();
      this.current =
        failure === undefined
          ? withSuccess(this.current)
          : withFailure(this.current, now, failure.code, this.deps.random, this.deps.backoff);
      // Login refused the SVID for its CA: renewing it, not backing off, is what helps.
      if (failure?.code === 'ERR_AUTHN_CA_DISTRUSTED' && this.svidFiles !== undefined) {
        this.svidDistrusted(this.svidFiles.chainPem, failure);
      }
    }
    this.notePhase();
  }

  private async renewSvid(): Promise<HallmarkError | undefined> {
    try {
      const svid = await this.deps.source.obtainSvid(this.abort.signal);
      if (this.stopped) return undefined;
      const now = this.deps.clock.now();
      // The renewal time is fixed before the files are written (csi-driver-spiffe's order).
      const lifetime = lifetimeOf(now, svid.expiresAt, SVID_RENEWAL_FRACTION, this.deps.random);
      await this.deps.store.writeSvid(svid.files);
      this.svidFiles = svid.files;
      this.current = withSvid(this.current, lifetime);
      this.report('svid', undefined);
      return undefined;
    } catch (err) {
      // A call abandoned by stop() is not a failure worth counting.
      return this.stopped ? undefined : this.report('svid', asHallmarkError(err));
    }
  }

  private async renewToken(svid: SvidFiles): Promise<HallmarkError | undefined> {
    try {
      const token = await this.deps.source.obtainToken(svid, this.abort.signal);
      if (this.stopped) return undefined;
      const now = this.deps.clock.now();
      const lifetime = lifetimeOf(now, token.expiresAt, TOKEN_RENEWAL_FRACTION, this.deps.random);
      await this.deps.store.writeToken(token.token);
      this.current = withToken(this.current, lifetime);
      this.report('token', undefined);
      return undefined;
    } catch (err) {
      return this.stopped ? undefined : this.report('token', asHallmarkError(err));
    }
  }

  /**
   * Removes a dead token so apps fail fast instead of presenting it. The state records the
   * removal even if unlinking failed (logged): retrying at once would spin.
   */
  private async removeToken(): Promise<void> {
    try {
      await this.deps.store.removeToken();
    } catch (err) {
      const error = asHallmarkError(err);
      this.deps.log.error(
        { code: error.code, detail: error.detail },
        'could not remove expired access-token',
      );
    }
    this.current = withTokenRemoved(this.current);
  }

  private report(
    credential: CredentialKind,
    error: HallmarkError | undefined,
  ): HallmarkError | undefined {
    const attempt: RefreshAttempt = { credential, error, at: this.deps.clock.now() };
    for (const listener of this.attemptListeners) listener(attempt);
    return error;
  }

  private notePhase(): void {
    const now = this.deps.clock.now();
    const to = phaseOf(this.current, now);
    if (to === this.phaseNow) return;
    const change: PhaseChange = {
      from: this.phaseNow,
      to,
      label: labelOf(this.phaseNow, to),
      at: now,
      code: to === 'degraded' || to === 'expired' ? this.current.retry?.code : undefined,
    };
    this.phaseNow = to;
    const { level, message } = describePhaseChange(change);
    const { svid, token } = this.current;
    this.deps.log[level](
      {
        phase: change.label,
        previous: change.from ?? null,
        code: change.code ?? null,
        svidExpiresAt: svid ? new Date(svid.expiresAt).toISOString() : null,
        tokenExpiresAt: token ? new Date(token.expiresAt).toISOString() : null,
      },
      message,
    );
    for (const listener of this.phaseListeners) listener(change);
  }
}
