// Public keys: canonical forms, the fast path for common EC keys, and refusals.
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
