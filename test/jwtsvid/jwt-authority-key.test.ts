// JWT authority keys: bundle entries (SPIFFE JWT-SVID §6.1), RFC 7638 kids, sealing bound to the row.
import { randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/crypto/index.js';
import { SEALED_ONLY, type PrivateKeyCustody } from '../../src/keyring/index.js';
import {
  generateJwtAuthority,
  openJwtAuthority,
  sealJwtAuthority,
} from '../../src/jwtsvid/jwt-authority-key.js';
import { codeOf } from '../helpers/error-code.js';

const master = new MasterKey(randomBytes(32));

/** The private key a sealed-only vault made (held in this process until its row seals it). */
function privateKeyOf(custody: PrivateKeyCustody): KeyObject {
  if (custody.kind !== 'sealed') throw new Error('expected a key held in this process');
  return custody.privateKey;
}

describe('generateJwtAuthority', () => {
  it.each([
    ['ES256', 'P-256'],
    ['ES384', 'P-384'],
    ['ES512', 'P-521'],
  ] as const)(
    '%s: an EC %s key published with kty, use jwt-svid, kid, crv, x, y only',
    async (alg, crv) => {
      const authority = await generateJwtAuthority(SEALED_ONLY, alg);
      expect(Object.keys(authority.bundleJwk).sort()).toEqual([
        'crv',
        'kid',
        'kty',
        'use',
        'x',
        'y',
      ]);
      expect(authority.bundleJwk).toMatchObject({
        kty: 'EC',
        use: 'jwt-svid',
        crv,
        kid: authority.kid,
      });
      expect(privateKeyOf(authority.key.custody).asymmetricKeyType).toBe('ec');
      expect(authority.alg).toBe(alg);
    },
  );

  it('RS256: an RSA key of 2048 bits published with kty, use, kid, n, e only', async () => {
    const authority = await generateJwtAuthority(SEALED_ONLY, 'RS256');
    expect(Object.keys(authority.bundleJwk).sort()).toEqual(['e', 'kid', 'kty', 'n', 'use']);
    expect(privateKeyOf(authority.key.custody).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('the kid is the RFC 7638 SHA-256 thumbprint of the public key, and keys differ', async () => {
    const [a, b] = await Promise.all([
      generateJwtAuthority(SEALED_ONLY, 'ES256'),
      generateJwtAuthority(SEALED_ONLY, 'ES256'),
    ]);
    const { kty, crv, x, y } = a!.bundleJwk;
    expect(a!.kid).toBe(await calculateJwkThumbprint({ kty, crv, x, y } as JWK, 'sha256'));
    expect(a!.kid).not.toBe(b!.kid);
    expect(JSON.stringify(a!.bundleJwk)).not.toContain('"d"');
  });
});

describe('sealing', () => {
  it('round-trips the private key only under the same kid and algorithm', async () => {
    const authority = await generateJwtAuthority(SEALED_ONLY, 'ES256');
    const privateKey = privateKeyOf(authority.key.custody);
    const sealed = sealJwtAuthority(master, authority, privateKey);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(sealed.includes(der)).toBe(false);
    const opened = openJwtAuthority(master, authority.kid, 'ES256', sealed);
    expect(opened.export({ format: 'der', type: 'pkcs8' }).equals(der)).toBe(true);
    expect(codeOf(() => openJwtAuthority(master, 'other-kid', 'ES256', sealed))).toBe(
      'ERR_CRYPTO_OPEN_FAILED',
    );
    expect(codeOf(() => openJwtAuthority(master, authority.kid, 'ES384', sealed))).toBe(
      'ERR_CRYPTO_OPEN_FAILED',
    );
    const otherMaster = new MasterKey(randomBytes(32));
    expect(codeOf(() => openJwtAuthority(otherMaster, authority.kid, 'ES256', sealed))).toBe(
      'ERR_CRYPTO_OPEN_FAILED',
    );
  });
});
