import { describe, expect, it } from 'vitest';
import {
  discoveryDocument,
  oidcCacheMaxAgeSeconds,
  oidcKeySet,
  type OidcSigningKey,
} from '../../src/oidc/index.js';

const EC: OidcSigningKey = {
  alg: 'ES256',
  jwk: { kty: 'EC', kid: 'k-ec', crv: 'P-256', x: 'xx', y: 'yy' },
};
const RSA: OidcSigningKey = { alg: 'RS256', jwk: { kty: 'RSA', kid: 'k-rsa', n: 'nn', e: 'AQAB' } };

describe('OIDC discovery documents', () => {
  it('names the issuer, the key set beside it and the algorithms of the published keys only', () => {
    const doc = discoveryDocument('https://oidc.example/td', [RSA, EC, RSA], 'ES256');
    expect(doc).toEqual({
      issuer: 'https://oidc.example/td',
      jwks_uri: 'https://oidc.example/td/.well-known/jwks.json',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    });
    expect(
      discoveryDocument('https://i', [], 'RS256').id_token_signing_alg_values_supported,
    ).toEqual(['RS256']);
  });

  it('publishes each key with kid, alg and use: sig, and only its public members', () => {
    const leaky = { alg: 'ES256', jwk: { ...EC.jwk, d: 'secret', use: 'jwt-svid' } };
    expect(oidcKeySet([leaky, RSA]).keys).toEqual([
      { kty: 'EC', use: 'sig', kid: 'k-ec', alg: 'ES256', crv: 'P-256', x: 'xx', y: 'yy' },
      { kty: 'RSA', use: 'sig', kid: 'k-rsa', alg: 'RS256', n: 'nn', e: 'AQAB' },
    ]);
    expect(oidcKeySet([{ alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } }]).keys).toEqual([]);
  });

  it('lets caches keep the documents at most half the publication lead, and at most an hour', () => {
    expect(oidcCacheMaxAgeSeconds(300_000)).toBe(150);
    expect(oidcCacheMaxAgeSeconds(999)).toBe(0);
    expect(oidcCacheMaxAgeSeconds(24 * 3_600_000)).toBe(3600);
  });
});
