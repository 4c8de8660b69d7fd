// JWT authority settings and the algorithm allowlist (SPIFFE JWT-SVID §2.1).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JWT_AUTHORITY_SETTINGS,
  isJwtSvidAlgorithm,
  jwtAuthoritySchedule,
  keyFitsAlgorithm,
  resolveJwtAuthoritySettings,
  type JwtAuthoritySettings,
} from '../../src/jwtsvid/index.js';
import { codeOf, NO_ERROR } from '../helpers/error-code.js';

/** The code resolving `settings` fails with, or NO_ERROR. */
function settingsCodeOf(settings: JwtAuthoritySettings): string {
  return codeOf(() => resolveJwtAuthoritySettings(settings));
}

describe('algorithm allowlist', () => {
  it('is exactly RS/ES/PS 256/384/512, case-sensitive', () => {
    for (const alg of [
      'RS256',
      'RS384',
      'RS512',
      'ES256',
      'ES384',
      'ES512',
      'PS256',
      'PS384',
      'PS512',
    ])
      expect(isJwtSvidAlgorithm(alg)).toBe(true);
    for (const alg of [
      'none',
      'HS256',
      'HS512',
      'EdDSA',
      'ES256K',
      'es256',
      'RSA-OAEP',
      '',
      undefined,
      256,
    ])
      expect(isJwtSvidAlgorithm(alg)).toBe(false);
  });

  it('matches keys to algorithms: one curve per ES algorithm, RSA for RS and PS', () => {
    expect(keyFitsAlgorithm({ kty: 'EC', crv: 'P-256' }, 'ES256')).toBe(true);
    expect(keyFitsAlgorithm({ kty: 'EC', crv: 'P-256' }, 'ES384')).toBe(false);
    expect(keyFitsAlgorithm({ kty: 'EC', crv: 'P-521' }, 'ES512')).toBe(true);
    expect(keyFitsAlgorithm({ kty: 'RSA' }, 'ES256')).toBe(false);
    expect(keyFitsAlgorithm({ kty: 'RSA' }, 'PS384')).toBe(true);
    expect(keyFitsAlgorithm({ kty: 'EC', crv: 'P-256' }, 'RS256')).toBe(false);
    expect(keyFitsAlgorithm({ kty: 'OKP', crv: 'Ed25519' }, 'ES256')).toBe(false);
  });
});

describe('resolveJwtAuthoritySettings', () => {
  it('defaults to ES256, daily rotation, 60 s leeway, 5 min propagation, ticking', () => {
    expect(resolveJwtAuthoritySettings({ svidTtlMs: 300_000 })).toEqual({
      svidTtlMs: 300_000,
      algorithm: 'ES256',
      rotationPeriodMs: 86_400_000,
      clockToleranceMs: 60_000,
      propagationMs: 300_000,
      tick: true,
    });
    expect(DEFAULT_JWT_AUTHORITY_SETTINGS.algorithm).toBe('ES256');
  });

  it('never lets an algorithm outside the allowlist sign', () => {
    for (const algorithm of ['none', 'HS256', 'EdDSA', 'es256'])
      expect(settingsCodeOf({ svidTtlMs: 300_000, algorithm })).toBe('ERR_CONFIG_INVALID');
    expect(settingsCodeOf({ svidTtlMs: 300_000, algorithm: 'PS384' })).toBe(NO_ERROR);
  });

  it('refuses non-positive durations', () => {
    expect(settingsCodeOf({ svidTtlMs: 0 })).toBe('ERR_CONFIG_INVALID');
    expect(settingsCodeOf({ svidTtlMs: 300_000, rotationPeriodMs: -1 })).toBe('ERR_CONFIG_INVALID');
    expect(settingsCodeOf({ svidTtlMs: 300_000, propagationMs: Number.NaN })).toBe(
      'ERR_CONFIG_INVALID',
    );
  });

  it('maps onto the shared signing-key schedule with the JWT-SVID TTL as token lifetime', () => {
    const resolved = resolveJwtAuthoritySettings({
      svidTtlMs: 120_000,
      rotationPeriodMs: 3_600_000,
    });
    expect(jwtAuthoritySchedule(resolved)).toEqual({
      rotationPeriodMs: 3_600_000,
      tokenTtlMs: 120_000,
      clockToleranceMs: 60_000,
      propagationMs: 300_000,
    });
  });
});
