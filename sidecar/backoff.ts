// Retry backoff: capped exponential delays with jitter, as a pure function of the failure count.

/** A source of uniformly distributed numbers in [0, 1), injected so schedules are testable. */
export type RandomSource = () => number;

/** Shape of the backoff curve. */
export interface BackoffPolicy {
  /** Delay after the first failure (ms). */
  readonly initialMs: number;
  /** Upper bound of any delay (ms), jitter included. */
  readonly maxMs: number;
  /** Relative jitter: each delay is scaled by a factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
}

/** 1 s doubling to 30 s, ±10 %: quick recovery from a blip, bounded load during an outage. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialMs: 1000,
  maxMs: 30_000,
  jitter: 0.1,
});

/**
 * Scales `ms` by a random factor in [1 - `jitter`, 1 + `jitter`]; `random` must return a
 * number in [0, 1). Jitter spreads the refreshes of many pods started together.
 */
export function withJitter(ms: number, jitter: number, random: RandomSource): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return ms * (1 + (2 * r - 1) * jitter);
}

/**
 * Delay before the next attempt after `failures` consecutive failures (1 = the first):
 * `initialMs · 2^(failures-1)`, capped at `maxMs`, jittered, and never above `maxMs`.
 */
export function backoffDelay(
  failures: number,
  random: RandomSource,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const base = Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
  return Math.round(Math.min(withJitter(base, policy.jitter, random), policy.maxMs));
}
