// When a dead worker is started again, and when the primary stops trying (pure; the clock is injected).
import type { Clock } from '../clock/index.js';

/** The restart rule of the cluster's workers. */
export interface RestartPolicy {
  /** Wait before the first restart of a slot; doubled for each further one. */
  readonly firstDelayMs: number;
  /** The longest wait between restarts. */
  readonly maxDelayMs: number;
  /** Restarts in a row (each worker dying before it ran `stableMs`) before giving up. */
  readonly maxRestarts: number;
  /** A worker that ran this long died of something new: its slot's count starts again. */
  readonly stableMs: number;
}

/** Quick enough that a crash costs a moment; five quick deaths in a row mean a broken host. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  firstDelayMs: 250,
  maxDelayMs: 8_000,
  maxRestarts: 5,
  stableMs: 30_000,
};

/** What to do about a worker that exited. */
export type RestartDecision =
  | { readonly kind: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly kind: 'give-up'; readonly restarts: number };

/** Counts each slot's restarts in a row and spaces them out. */
export class WorkerRestarts {
  readonly #inARow = new Map<number, number>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {}

  /** The worker of `slot`, started at `startedAt` (clock ms), has exited unasked. */
  exited(slot: number, startedAt: number): RestartDecision {
    const ranMs = this.clock.now() - startedAt;
    const before = ranMs >= this.policy.stableMs ? 0 : (this.#inARow.get(slot) ?? 0);
    if (before >= this.policy.maxRestarts) return { kind: 'give-up', restarts: before };
    const attempt = before + 1;
    this.#inARow.set(slot, attempt);
    const delayMs = Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** (attempt - 1));
    return { kind: 'restart', delayMs, attempt };
  }
}
