// Per-identity token buckets, so one workload cannot monopolise the CA.
import type { Clock } from '../clock/index.js';

/**
 * A token bucket per key: `perMinute` tokens refill continuously, bursts up to `perMinute`.
 * In memory, per replica (a replica count multiplies the limit; acceptable for a flood guard).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const now = this.clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(
      this.perMinute,
      bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000,
    );
    bucket.at = now;
    if (this.#buckets.size > 100_000) this.#buckets.clear(); // bound memory under key floods
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
