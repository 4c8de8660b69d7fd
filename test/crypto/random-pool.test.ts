// Pooled random bytes: fresh on every call, across refills, and never changed after they are handed out.
import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/crypto/index.js';

describe('pooledRandomBytes', () => {
  it('hands out distinct slices across several refills of the pool', () => {
    const seen = new Set<string>();
    // 4 KiB a fill: 1,000 × 16 bytes is four refills.
    for (let i = 0; i < 1_000; i++) seen.add(pooledRandomBytes(16).toString('hex'));
    expect(seen.size).toBe(1_000);
  });

  it('gives each caller a copy that later refills leave alone', () => {
    const first = pooledRandomBytes(32);
    const kept = Buffer.from(first);
    for (let i = 0; i < 300; i++) pooledRandomBytes(32);
    expect(first.equals(kept)).toBe(true);
  });

  it('refuses sizes the pool cannot serve', () => {
    expect(() => pooledRandomBytes(0)).toThrow(RangeError);
    expect(() => pooledRandomBytes(4097)).toThrow(RangeError);
    expect(() => pooledRandomBytes(1.5)).toThrow(RangeError);
  });
});
