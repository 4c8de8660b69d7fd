// r‖s → DER for ECDSA, checked by OpenSSL (through node:crypto), which accepts only exact DER.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawToDer } from '../../src/hsm/index.js';

describe('ECDSA signature encoding', () => {
  it.each([
    ['P-256', 32, 'sha256'],
    ['P-384', 48, 'sha384'],
  ] as const)('turns %s r‖s into DER that verifies', (namedCurve, size, hash) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    // Enough signatures that r or s has its high bit set (a 0x00 prefix) and, now and then, a
    // leading zero byte (a shorter INTEGER, about one in 128 signatures); OpenSSL refuses any
    // non-minimal encoding of either.
    let padded = 0;
    let short = 0;
    for (let i = 0; i < 5000 && (padded < 10 || short < 2); i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = rawToDer(raw, size);
      expect(verify(hash, data, { key: publicKey, dsaEncoding: 'der' }, der)).toBe(true);
      if (raw[0]! >= 0x80 || raw[size]! >= 0x80) padded++;
      if (raw[0] === 0 || raw[size] === 0) short++;
    }
    expect(padded).toBeGreaterThanOrEqual(10);
    expect(short).toBeGreaterThanOrEqual(2);
  });

  it('refuses a signature of the wrong length', () => {
    expect(() => rawToDer(Buffer.alloc(63), 32)).toThrow(RangeError);
  });
});
