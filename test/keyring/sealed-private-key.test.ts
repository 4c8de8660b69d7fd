// Private keys at rest: PKCS#8 sealed under the master key, opened only with the same AAD.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/crypto/index.js';
import { openPrivateKey, sealPrivateKey } from '../../src/keyring/index.js';

const master = new MasterKey(randomBytes(32));
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const openFailed = expect.objectContaining({ code: 'ERR_CRYPTO_OPEN_FAILED' });

describe('sealPrivateKey / openPrivateKey', () => {
  it('round-trips the key without its DER in the sealed bytes', () => {
    const sealed = sealPrivateKey(master, privateKey, 'kind|kid-1');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(sealed.includes(der)).toBe(false);
    const opened = openPrivateKey(master, sealed, 'kind|kid-1');
    expect(opened.export({ format: 'der', type: 'pkcs8' }).equals(der)).toBe(true);
  });

  it('refuses another AAD or another master key', () => {
    const sealed = sealPrivateKey(master, privateKey, 'kind|kid-1');
    expect(() => openPrivateKey(master, sealed, 'kind|kid-2')).toThrow(openFailed);
    const other = new MasterKey(randomBytes(32));
    expect(() => openPrivateKey(other, sealed, 'kind|kid-1')).toThrow(openFailed);
  });
});
