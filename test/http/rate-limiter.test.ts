// The per-identity limiter: a burst of perMinute, continuous refill, and a bound on keys held.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/http/rate-limiter.js';
import { ManualClock } from '../doubles/manual-clock.js';

describe('RateLimiter', () => {
  it('allows a burst of perMinute per key, then refills continuously', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(3, clock);
    expect([1, 2, 3, 4].map(() => limiter.take('ns/a'))).toEqual([true, true, true, false]);
    expect(limiter.take('ns/b')).toBe(true); // keys do not share a bucket
    clock.advance(19_999);
    expect(limiter.take('ns/a')).toBe(false);
    clock.advance(1); // one token per 20 s at 3 per minute
    expect(limiter.take('ns/a')).toBe(true);
    expect(limiter.take('ns/a')).toBe(false);
  });

  it('forgets the least recently seen key past its bound, which only refills that key', () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter(1, clock);
    expect(limiter.take('first')).toBe(true);
    expect(limiter.take('first')).toBe(false);
    for (let i = 0; i < 100_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.take('first')).toBe(true);
    // A key seen during the flood is still remembered with its empty bucket.
    expect(limiter.take('flood-99999')).toBe(false);
  });
});
