// Per-identity token buckets, so one workload cannot monopolise the CA.
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock/index.js';

/**
 * A token bucket per key: `perMinute` tokens refill continuously, bursts up to `perMinute`.
 * In memory, per replica (a replica count multiplies the limit; acceptable for a flood guard).
 * At most 100,000 keys are remembered, the least recently seen forgotten first: forgetting a
 * key only ever gives it a full bucket, never an empty one.
 */
export class RateLimiter {
  readonly #buckets = new LRUCache<string, { tokens: number; at: number }>({ max: 100_000 });

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
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
