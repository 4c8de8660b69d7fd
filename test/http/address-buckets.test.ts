// The per-address token buckets of the pre-authentication limit, on a clock moved by hand.
import { describe, expect, it } from 'vitest';
import { AddressBuckets, callerKey } from '../../src/http/index.js';
import { ManualClock } from '../doubles/manual-clock.js';

function buckets(ratePerSecond: number, burst: number, maxAddresses?: number) {
  const clock = new ManualClock();
  return { clock, buckets: new AddressBuckets({ ratePerSecond, burst, maxAddresses }, clock) };
}

function takeAll(b: AddressBuckets, address: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i += 1) if (b.take(address).ok) ok += 1;
  return ok;
}

describe('AddressBuckets', () => {
  it('lets an address spend its burst at once, then refuses with the seconds until a token', () => {
    const { buckets: b } = buckets(2, 20);
    expect(takeAll(b, '10.0.0.1', 20)).toBe(20);
    expect(b.take('10.0.0.1')).toEqual({ ok: false, retryAfterSeconds: 1 });
    // A slow refill: 1 token every 10 s, so the wait said is 10 s.
    const slow = buckets(0.1, 1).buckets;
    expect(slow.take('a').ok).toBe(true);
    expect(slow.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
  });

  it('refills at the rate, never above the burst', () => {
    const { clock, buckets: b } = buckets(2, 5);
    expect(takeAll(b, 'a', 10)).toBe(5);
    clock.advance(499);
    expect(b.take('a').ok).toBe(false);
    clock.advance(1); // 0.5 s at 2/s: one token
    expect(b.take('a').ok).toBe(true);
    expect(b.take('a').ok).toBe(false);
    clock.advance(60_000);
    expect(b.tokens('a')).toBe(5);
    expect(takeAll(b, 'a', 10)).toBe(5);
  });

  it('rounds Retry-After up so that a caller retrying then finds a token', () => {
    const { clock, buckets: b } = buckets(1, 3);
    takeAll(b, 'a', 3);
    clock.advance(200);
    const refused = b.take('a');
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(800);
    expect(b.take('a').ok).toBe(true);
  });

  it('gives a succeeded request its token back, up to the burst', () => {
    const { buckets: b } = buckets(1, 3);
    expect(takeAll(b, 'a', 3)).toBe(3);
    b.refund('a');
    expect(b.take('a').ok).toBe(true);
    expect(b.take('a').ok).toBe(false);
    for (let i = 0; i < 10; i += 1) b.refund('a');
    expect(b.tokens('a')).toBe(3);
  });

  it('keeps addresses apart', () => {
    const { buckets: b } = buckets(1, 2);
    expect(takeAll(b, '10.0.0.1', 5)).toBe(2);
    expect(takeAll(b, '10.0.0.2', 5)).toBe(2);
    expect(takeAll(b, '2001:db8::1', 5)).toBe(2);
  });

  it('remembers a bounded number of addresses; one forgotten starts full again', () => {
    const { buckets: b } = buckets(1, 2, 2);
    takeAll(b, 'a', 2);
    takeAll(b, 'b', 2);
    expect(b.take('a').ok).toBe(false); // a is the most recently seen now
    takeAll(b, 'c', 2); // pushes out b, the least recently seen
    expect(b.take('a').ok).toBe(false);
    expect(b.take('b').ok).toBe(true);
  });

  it('refuses a rate or burst that would never admit anyone', () => {
    const clock = new ManualClock();
    expect(() => new AddressBuckets({ ratePerSecond: 0, burst: 1 }, clock)).toThrow(RangeError);
    expect(() => new AddressBuckets({ ratePerSecond: 1, burst: 0 }, clock)).toThrow(RangeError);
  });

  it('charges an IPv6 caller by its /64: the addresses one host picks freely share one bucket', () => {
    const { buckets: b } = buckets(2, 20);
    let admitted = 0;
    for (let i = 0; i < 1_000; i += 1) {
      const group = (n: number) => (n % 0x10000).toString(16);
      const address = `2001:db8:1:2:${group(i * 7919)}:${group(i)}::${group(i * 31)}`;
      if (b.take(callerKey(address)).ok) admitted += 1;
    }
    expect(admitted).toBe(20);
    // Another /64 has its own bucket.
    expect(b.take(callerKey('2001:db8:1:3::1')).ok).toBe(true);
  });

  it('names the caller: IPv4 as it is, IPv4-mapped as IPv4, IPv6 as its /64', () => {
    expect(callerKey('10.0.0.7')).toBe('10.0.0.7');
    expect(callerKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(callerKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(callerKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(callerKey('::1')).toBe('::/64');
    expect(callerKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(callerKey('unknown')).toBe('unknown');
  });
});
