// Public keys: canonical forms, the fast path for common EC keys, and refusals.
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/x509/index.js';
import {
  importPublicKey,
  isRefusal,
  readSubjectPublicKey,
  type PublicKeyInfo,
} from '../../src/x509/subject-public-key.js';

const spkiOf = (type: 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519') =>
  generateKeyPair(type).publicKey.export({ type: 'spki', format: 'der' });

describe('readSubjectPublicKey', () => {
  it.each(['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'] as const)(
    'keeps a canonical %s key byte for byte and imports it',
    (type) => {
      const spki = spkiOf(type);
      const info = readSubjectPublicKey(spki) as PublicKeyInfo;
      expect(isRefusal(info)).toBe(false);
      expect(info.spkiDer).toEqual(spki);
      expect(importPublicKey(info).export({ type: 'spki', format: 'der' })).toEqual(spki);
    },
  );

  it('re-encodes a valid but non-canonical EC key canonically', () => {
    const spki = spkiOf('ec-p256');
    // the AlgorithmIdentifier's length in long form (0x81 0x13 instead of 0x13)
    expect(spki.subarray(0, 4).toString('hex')).toBe('30593013');
    const loose = Buffer.concat([Buffer.from('305a3081', 'hex'), spki.subarray(3)]);
    const info = readSubjectPublicKey(loose) as PublicKeyInfo;
    expect(isRefusal(info)).toBe(false);
    expect(info.kind).toBe('ec-p256');
    expect(info.spkiDer).toEqual(spki);
  });

  it('refuses non-uncompressed points even at the canonical size', () => {
    const spki = Buffer.from(spkiOf('ec-p256'));
    spki[spki.length - 65] = 0x06; // "hybrid" point form
    expect(readSubjectPublicKey(spki)).toMatchObject({ refused: 'unsupported' });
  });

  it('calls a truncated point malformed', () => {
    const spki = spkiOf('ec-p256');
    const short = Buffer.concat([
      Buffer.from([0x30, spki[1]! - 1]),
      spki.subarray(2, 2 + 0x15),
      Buffer.from([0x03, 0x41]),
      spki.subarray(2 + 0x15 + 2, spki.length - 1),
    ]);
    expect(readSubjectPublicKey(short)).toMatchObject({ refused: 'malformed' });
  });
});

describe('readSubjectPublicKey: RSA public exponent', () => {
  const { n } = generateKeyPair('rsa-2048').publicKey.export({ format: 'jwk' });
  const withExponent = (e: bigint) => {
    const hex = e.toString(16);
    const jwkE = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
    return createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: n!, e: jwkE } }).export({
      type: 'spki',
      format: 'der',
    });
  };

  it.each([65537n, 2n ** 31n - 1n])('accepts %s', (e) => {
    expect(isRefusal(readSubjectPublicKey(withExponent(e)))).toBe(false);
  });

  it.each([
    ['3', 3n],
    ['65535', 65535n],
    ['65538 (even)', 65538n],
    ['2^31+1', 2n ** 31n + 1n],
    ['2^32+1', 2n ** 32n + 1n],
    ['2^255+1', 2n ** 255n + 1n],
  ])('refuses %s as unsupported', (_, e) => {
    expect(readSubjectPublicKey(withExponent(e))).toMatchObject({ refused: 'unsupported' });
  });
});
