import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterKey, open, openEnvelope, seal, sealEnvelope } from '../../src/crypto/index.js';

const key = randomBytes(32);

function expectOpenFailure(fn: () => unknown): void {
  expect(fn).toThrowError(expect.objectContaining({ code: 'ERR_CRYPTO_OPEN_FAILED' }));
}

describe('AES-256-GCM seal/open', () => {
  it('round-trips with the same key and AAD', () => {
    const plaintext = Buffer.from('db-password: correct horse battery staple');
    const sealed = seal(key, plaintext, 'secret/a|1');
    expect(sealed.includes(plaintext)).toBe(false);
    expect(open(key, sealed, 'secret/a|1').equals(plaintext)).toBe(true);
  });

  it('uses a fresh IV each time', () => {
    expect(seal(key, Buffer.from('x'), 'a').equals(seal(key, Buffer.from('x'), 'a'))).toBe(false);
  });

  it('fails with different AAD', () => {
    const sealed = seal(key, Buffer.from('value'), 'payments/db|1');
    expectOpenFailure(() => open(key, sealed, 'payments/db|2'));
  });

  it('fails when any single bit is flipped', () => {
    const sealed = seal(key, Buffer.from('value that matters'), 'aad');
    for (let byte = 0; byte < sealed.length; byte++) {
      const tampered = Buffer.from(sealed);
      tampered[byte] = (tampered[byte] as number) ^ 0x01;
      expect(() => open(key, tampered, 'aad'), `byte ${byte}`).toThrowError(
        expect.objectContaining({ code: 'ERR_CRYPTO_OPEN_FAILED' }),
      );
    }
  });

  it('fails with another key and with truncated input', () => {
    const sealed = seal(key, Buffer.from('value'), 'aad');
    expectOpenFailure(() => open(randomBytes(32), sealed, 'aad'));
    expectOpenFailure(() => open(key, sealed.subarray(0, 20), 'aad'));
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => seal(randomBytes(16), Buffer.from('x'), 'a')).toThrowError(
      expect.objectContaining({ code: 'ERR_CRYPTO_BAD_KEY' }),
    );
  });
});

describe('envelope encryption', () => {
  const master = new MasterKey(randomBytes(32));

  it('round-trips and binds both the payload and the data key to the AAD', () => {
    const env = sealEnvelope(master, Buffer.from('s3cr3t'), 'app/db|3');
    expect(openEnvelope(master, env, 'app/db|3').toString()).toBe('s3cr3t');
    expectOpenFailure(() => openEnvelope(master, env, 'app/db|4'));
  });

  it("cannot open a payload with another row's data key", () => {
    const a = sealEnvelope(master, Buffer.from('A'), 'x|1');
    const b = sealEnvelope(master, Buffer.from('B'), 'x|1');
    expectOpenFailure(() =>
      openEnvelope(master, { wrappedKey: a.wrappedKey, ciphertext: b.ciphertext }, 'x|1'),
    );
  });

  it('never serialises the master key', () => {
    expect(JSON.stringify({ master })).toBe('{"master":"[MasterKey]"}');
  });
});
