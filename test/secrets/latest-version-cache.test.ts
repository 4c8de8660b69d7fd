// The secret cache's bookkeeping: LRU by bytes, TTL, invalidation, and the fill-race guard.
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LatestVersionCache, type CachedVersion } from '../../src/secrets/index.js';

function sealed(path: string, version = 1, ciphertextBytes = 100): CachedVersion {
  return {
    path,
    version,
    dataKey: createSecretKey(randomBytes(32)),
    ciphertext: randomBytes(ciphertextBytes),
    createdAt: new Date(0),
    createdBy: 'key:admin',
  };
}

const LIMITS = { maxBytes: 1_000_000, ttlMs: 30_000 };

describe('LatestVersionCache', () => {
  it('returns what was filled, until the TTL runs out', () => {
    const cache = new LatestVersionCache(LIMITS);
    const v = sealed('app/db');
    cache.fill(cache.generation, v, 1_000);
    expect(cache.get('app/db', 1_000)).toBe(v);
    expect(cache.get('app/db', 30_999)).toBe(v);
    expect(cache.get('app/db', 31_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('keeps the newer version when a path is filled twice', () => {
    const cache = new LatestVersionCache(LIMITS);
    cache.fill(cache.generation, sealed('app/db', 1), 0);
    const v2 = sealed('app/db', 2);
    cache.fill(cache.generation, v2, 0);
    expect(cache.get('app/db', 0)).toBe(v2);
    expect(cache.size).toBe(1);
  });

  it('drops a fill that raced an invalidation, so a superseded version is never put back', () => {
    const cache = new LatestVersionCache(LIMITS);
    const readStarted = cache.generation;
    cache.invalidate('app/db'); // a write committed while the read's query was in flight
    cache.fill(readStarted, sealed('app/db', 1), 0);
    expect(cache.get('app/db', 0)).toBeUndefined();
    // An invalidation of any path, or a clear, counts: the guard is global.
    const again = cache.generation;
    cache.invalidatePrefix('other/');
    cache.fill(again, sealed('app/db', 1), 0);
    expect(cache.get('app/db', 0)).toBeUndefined();
    const third = cache.generation;
    cache.clear();
    cache.fill(third, sealed('app/db', 1), 0);
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entries to stay within its byte bound', () => {
    const cache = new LatestVersionCache({ maxBytes: 3_000, ttlMs: 30_000 });
    for (const path of ['a', 'b', 'c', 'd']) cache.fill(cache.generation, sealed(path, 1, 500), 0);
    // Four entries of ~760 bytes do not fit in 3,000: the oldest went.
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
    // Reading b makes c the least recently used.
    expect(cache.get('b', 0)).toBeDefined();
    cache.fill(cache.generation, sealed('e', 1, 500), 0);
    expect(cache.get('c', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBeDefined();
    expect(cache.get('e', 0)).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(3_000);
  });

  it('never holds an entry larger than the whole bound, and holds nothing at 0 bytes', () => {
    const small = new LatestVersionCache({ maxBytes: 1_000, ttlMs: 30_000 });
    small.fill(small.generation, sealed('big', 1, 2_000), 0);
    expect(small.size).toBe(0);
    const off = new LatestVersionCache({ maxBytes: 0, ttlMs: 30_000 });
    off.fill(off.generation, sealed('a', 1, 1), 0);
    expect(off.get('a', 0)).toBeUndefined();
    expect(off.bytes).toBe(0);
  });

  it('forgets one path, a prefix, or everything, and keeps its byte count exact', () => {
    const cache = new LatestVersionCache(LIMITS);
    cache.fill(cache.generation, sealed('scope-10/a'), 0);
    const survivor = cache.bytes;
    for (const path of ['scope-1/a', 'scope-1/b', 'other/a'])
      cache.fill(cache.generation, sealed(path), 0);
    cache.invalidate('other/a');
    expect(cache.get('other/a', 0)).toBeUndefined();
    cache.invalidatePrefix('scope-1/');
    expect(cache.get('scope-1/a', 0)).toBeUndefined();
    expect(cache.get('scope-1/b', 0)).toBeUndefined();
    expect(cache.get('scope-10/a', 0)).toBeDefined();
    expect(cache.bytes).toBe(survivor);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });
});
