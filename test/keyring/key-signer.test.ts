// Signers: a sealed key signs in process, a device-held key plugs in through the same interface.
import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { TokenSigner } from '../../src/hsm/index.js';
import { localSigner, signerOf, type KeySigner, type StoredKey } from '../../src/keyring/index.js';

const data = Buffer.from('to be signed');
const slot = {
  kid: 'k1',
  status: 'active' as const,
  createdAt: 0,
  activatedAt: 0,
  retiredAt: undefined,
};

describe('localSigner', () => {
  it('signs ECDSA as DER or r‖s with the curve’s hash, verifiable with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const signer = localSigner(privateKey);
    expect(signer.publicKey.equals(publicKey)).toBe(true);
    const der = await signer.sign(data);
    expect(verify('sha384', data, publicKey, der)).toBe(true);
    const raw = await signer.sign(data, { format: 'ieee-p1363' });
    expect(raw).toHaveLength(96);
    expect(verify('sha384', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    expect(localSigner(privateKey)).toBe(signer);
  });

  it('signs RSA with PKCS#1 v1.5 or PSS', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signer = localSigner(privateKey);
    expect(verify('sha256', data, publicKey, await signer.sign(data))).toBe(true);
    const pss = await signer.sign(data, { hash: 'sha384', padding: 'pss' });
    const options = { key: publicKey, padding: 6, saltLength: 48 };
    expect(verify('sha384', data, options, pss)).toBe(true);
  });
});

describe('signerOf', () => {
  it('uses a device key’s own signer, else the unsealed private key, else none', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const device: KeySigner = localSigner(privateKey);
    const held: StoredKey = { ...slot, privateKey: undefined, signer: device };
    expect(signerOf(held)).toBe(device);
    const sealed: StoredKey = { ...slot, privateKey };
    expect(signerOf(sealed)).toBe(localSigner(privateKey));
    expect(signerOf({ ...slot, status: 'retired', privateKey: undefined })).toBeUndefined();
  });

  it('accepts src/hsm’s token signer as a key signer', () => {
    expectTypeOf<TokenSigner>().toMatchTypeOf<KeySigner>();
  });
});
