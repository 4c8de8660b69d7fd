// Key generation and key-type recognition with node:crypto.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  generateKeyPairAsync,
  KEY_TYPES,
  keyTypeOf,
} from '../../src/x509/index.js';

describe('generateKeyPair', () => {
  it.each(KEY_TYPES)('makes a %s pair that keyTypeOf recognises', (type) => {
    const { publicKey, privateKey } = generateKeyPair(type);
    expect(publicKey.type).toBe('public');
    expect(privateKey.type).toBe('private');
    expect(keyTypeOf(publicKey)).toBe(type);
    expect(keyTypeOf(privateKey)).toBe(type);
  });

  it.each(['ec-p256', 'ed25519'] as const)('makes a %s pair asynchronously', async (type) => {
    const pair = await generateKeyPairAsync(type);
    expect(keyTypeOf(pair.privateKey)).toBe(type);
  });

  it('does not name keys outside the supported set', () => {
    expect(
      keyTypeOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey),
    ).toBeUndefined();
    expect(
      keyTypeOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey),
    ).toBeUndefined();
    expect(keyTypeOf(generateKeyPairSync('x25519').publicKey)).toBeUndefined();
  });
});
