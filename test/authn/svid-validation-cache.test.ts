// The login's SVID validation cache: keyed by chain and bundle, honouring its path's validity.
import { describe, expect, it } from 'vitest';
import { SvidValidationCache } from '../../src/authn/svid-validation-cache.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import type { VerifiedX509Svid } from '../../src/x509/index.js';

const T = Date.UTC(2026, 2, 1);
const svid: VerifiedX509Svid = {
  spiffeId: parseSpiffeId('spiffe://hallmark.local/ns/a/sa/b'),
  serialHex: '01',
  notBefore: new Date(T - 10_000),
  notAfter: new Date(T + 3_600_000),
  publicKeyFingerprint: 'ab',
  pathLength: 2,
  pathNotBefore: new Date(T - 10_000),
  pathNotAfter: new Date(T + 3_600_000),
};

describe('SvidValidationCache', () => {
  it('keys on the whole chain and the bundle', () => {
    const key = SvidValidationCache.keyOf(['leaf'], ['ca1', 'ca2']);
    expect(SvidValidationCache.keyOf(['leaf'], ['ca1', 'ca2'])).toBe(key);
    expect(SvidValidationCache.keyOf(['leaf'], ['ca1'])).not.toBe(key);
    expect(SvidValidationCache.keyOf(['leaf', 'ca1'], ['ca2'])).not.toBe(key);
    expect(SvidValidationCache.keyOf(['other'], ['ca1', 'ca2'])).not.toBe(key);
  });

  it('returns a result only within the validity period', () => {
    const cache = new SvidValidationCache();
    cache.set('k', svid);
    expect(cache.get('k', T)).toBe(svid);
    expect(cache.get('k', T - 10_001)).toBeUndefined();
    expect(cache.get('k', T + 3_600_000)).toBe(svid);
    expect(cache.get('k', T + 3_600_001)).toBeUndefined();
    expect(cache.get('k', T)).toBeUndefined(); // expired entries are dropped
  });

  it('returns a result only while every certificate of its path is valid', () => {
    // An intermediate that expires an hour before the leaf does.
    const shortPath = { ...svid, notAfter: new Date(T + 7_200_000) };
    const cache = new SvidValidationCache();
    cache.set('k', shortPath);
    expect(cache.get('k', T + 3_600_000)).toBe(shortPath);
    expect(SvidValidationCache.isCurrent(shortPath, T + 3_600_001)).toBe(false);
    expect(cache.get('k', T + 3_600_001)).toBeUndefined();
  });

  it("forgets a connection's check once its handshake changes (renegotiation)", () => {
    const cache = new SvidValidationCache();
    const connection = {};
    const first = Buffer.from('finished-1');
    const seen = { finished: first, certificates: [], bundle: ['ca1'], svid };
    cache.rememberHandshake(connection, seen);
    expect(cache.ofHandshake(connection, Buffer.from('finished-1'))).toBe(seen);
    expect(cache.ofHandshake(connection, Buffer.from('finished-2'))).toBeUndefined();
    expect(cache.ofHandshake({}, first)).toBeUndefined();
  });

  it('stays bounded, dropping the oldest entry', () => {
    const cache = new SvidValidationCache(2);
    cache.set('a', svid);
    cache.set('b', svid);
    cache.set('c', svid);
    expect(cache.get('a', T)).toBeUndefined();
    expect(cache.get('b', T)).toBe(svid);
    expect(cache.get('c', T)).toBe(svid);
  });
});
