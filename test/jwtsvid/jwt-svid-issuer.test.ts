// JWT-SVID issuance conformance: headers, claims, lifetime, audiences; validated by jose and by us.
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { bundleDocument, type BundleDocument } from '../../src/ca/index.js';
import {
  JWT_SVID_ALGORITHMS,
  JwtSvidIssuer,
  jwtSvidClaims,
  validateJwtSvid,
  type JwtSvidAlgorithm,
} from '../../src/jwtsvid/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { MemoryAuthorities, testAuthority } from './jwt-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf, NO_ERROR } from '../helpers/error-code.js';

const TD = 'hallmark.local';
const ID = parseSpiffeId(`spiffe://${TD}/ns/payments/sa/api`);
const TTL = 5 * 60_000;
const START = Date.UTC(2026, 2, 1, 12) + 250; // not on a second boundary

let clock: ManualClock;
let authorities: MemoryAuthorities;
let issuer: JwtSvidIssuer;

function published(): BundleDocument {
  return bundleDocument(
    { certificatesPem: [], sequence: 1, refreshHintSeconds: 300 },
    authorities.bundleJwks(),
  );
}

/**
 * What a relying party with a standard JOSE library does with the bundle (§6.2): keep the
 * `jwt-svid` entries and hand them over as RFC 7517 signature keys (`use: sig`).
 */
function relyingPartyJwks(bundle: BundleDocument): JSONWebKeySet {
  return {
    keys: bundle.keys
      .filter((key) => key.use === 'jwt-svid')
      .map((key) => ({ ...key, use: 'sig' })),
  };
}

function request(audience: readonly unknown[] = ['svc'], notAfter = new Date(START + 3_600_000)) {
  return { spiffeId: ID, audience, notAfter };
}

beforeEach(() => {
  clock = new ManualClock(START);
  authorities = new MemoryAuthorities(testAuthority('ES256'));
  issuer = new JwtSvidIssuer(authorities, clock, { trustDomain: TD, ttlMs: TTL });
});

describe('JWT-SVID conformance (SPIFFE JWT-SVID §2, §3, §5)', () => {
  it('is a compact JWS with exactly the headers alg, kid and typ: JWT', async () => {
    const { token, kid } = await issuer.issue(request());
    expect(token.split('.')).toHaveLength(3);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'ES256', kid: authorities.active.kid, typ: 'JWT' });
    expect(kid).toBe(authorities.active.kid);
  });

  it('carries sub, aud, iat and exp, each typed as the spec and RFC 7519 say', async () => {
    const issued = await issuer.issue(request(['svc', 'spiffe://hallmark.local/reports']));
    const claims = decodeJwt(issued.token);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'sub']);
    expect(claims.sub).toBe(ID.toString());
    expect(claims.aud).toEqual(['svc', 'spiffe://hallmark.local/reports']);
    expect(Number.isInteger(claims.iat)).toBe(true);
    expect(Number.isInteger(claims.exp)).toBe(true);
    expect(claims.iat).toBe(Math.floor(START / 1000));
    expect(claims.exp).toBe(Math.floor((START + TTL) / 1000));
    expect(issued.expiresAt).toBe((claims.exp as number) * 1000);
    expect(issued.spiffeId).toBe(ID.toString());
    expect(issued.audience).toEqual(claims.aud);
  });

  it('keeps `aud` a list even with one audience', async () => {
    const { token } = await issuer.issue(request(['only']));
    expect(decodeJwt(token).aud).toEqual(['only']);
  });

  it('validates with jose over the published jwt-svid keys, and with validateJwtSvid', async () => {
    const { token } = await issuer.issue(request(['svc']));
    const jwks = createLocalJWKSet(relyingPartyJwks(published()));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      audience: 'svc',
      algorithms: [...JWT_SVID_ALGORITHMS],
      typ: 'JWT',
      currentDate: new Date(clock.now()),
      requiredClaims: ['sub', 'aud', 'exp'],
    });
    expect(payload.sub).toBe(ID.toString());
    expect(protectedHeader.kid).toBe(authorities.active.kid);

    const validated = await validateJwtSvid(token, {
      bundleJwks: published().keys,
      audience: 'svc',
      trustDomain: TD,
      clock,
    });
    expect(validated.spiffeId.toString()).toBe(ID.toString());

    clock.advance(TTL);
    expect(
      await codeOf(jwtVerify(token, jwks, { audience: 'svc', currentDate: new Date(clock.now()) })),
    ).toBe('ERR_JWT_EXPIRED');
    expect(
      await codeOf(
        validateJwtSvid(token, {
          bundleJwks: published().keys,
          audience: 'svc',
          trustDomain: TD,
          clock,
          leewayMs: 0,
        }),
      ),
    ).toBe('ERR_JWTSVID_EXPIRED');
  });

  it.each(['RS256', 'PS256', 'ES384', 'ES512', 'PS512'] as JwtSvidAlgorithm[])(
    'signs with a %s authority, and the token names it',
    async (alg) => {
      authorities = new MemoryAuthorities(testAuthority(alg));
      issuer = new JwtSvidIssuer(authorities, clock, { trustDomain: TD, ttlMs: TTL });
      const { token } = await issuer.issue(request());
      expect(decodeProtectedHeader(token).alg).toBe(alg);
      const jwks = createLocalJWKSet(relyingPartyJwks(published()));
      await expect(
        jwtVerify(token, jwks, { audience: 'svc', currentDate: new Date(clock.now()) }),
      ).resolves.toBeTruthy();
    },
  );
});

describe('JWT-SVID lifetime', () => {
  it('never outlives the caller X509-SVID', async () => {
    const notAfter = new Date(START + 61_000);
    const issued = await issuer.issue(request(['svc'], notAfter));
    expect(issued.expiresAt).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    expect(issued.expiresAt).toBeLessThanOrEqual(notAfter.getTime());
  });

  it('refuses when the X509-SVID expires before a whole second of JWT-SVID is possible', async () => {
    const code = await codeOf(issuer.issue(request(['svc'], new Date(START + 500))));
    expect(code).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
  });

  it('jwtSvidClaims is pure arithmetic over now, TTL and notAfter', () => {
    const claims = jwtSvidClaims(
      { spiffeId: ID, audience: ['a'], notAfter: new Date(10_999_999) },
      1_000_999,
      5_000,
    );
    expect(claims).toEqual({ sub: ID.toString(), aud: ['a'], iat: 1_000, exp: 1_005 });
    expect(
      jwtSvidClaims(
        { spiffeId: ID, audience: ['a'], notAfter: new Date(1_003_500) },
        1_000_999,
        5_000,
      ).exp,
    ).toBe(1_003);
  });
});

describe('requested audiences', () => {
  it.each([
    ['none', []],
    ['17 of them', Array.from({ length: 17 }, (_, i) => `aud-${i}`)],
    ['an empty one', ['svc', '']],
    ['one of 257 characters', ['a'.repeat(257)]],
    ['a lone surrogate', ['svc\ud800']],
    ['a non-string', ['svc', 7]],
  ])('refuses %s with ERR_JWTSVID_AUDIENCE_INVALID', async (_name, audience) => {
    expect(await codeOf(issuer.issue(request(audience)))).toBe('ERR_JWTSVID_AUDIENCE_INVALID');
  });

  it('accepts 16 audiences and 256-character (code point) values', async () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => `aud-${i}`);
    expect(await codeOf(issuer.issue(request(sixteen)))).toBe(NO_ERROR);
    expect(await codeOf(issuer.issue(request(['é'.repeat(256), '😀'.repeat(256)])))).toBe(NO_ERROR);
  });
});

describe('build → sign → validate', () => {
  it('returns nothing when the signing key is not in the published bundle', async () => {
    authorities.published = [testAuthority('ES256').bundleJwk];
    expect(await codeOf(issuer.issue(request()))).toBe('ERR_JWTSVID_ISSUED_INVALID');
  });

  it('returns nothing for a subject outside the trust domain', async () => {
    const foreign = { ...request(), spiffeId: parseSpiffeId('spiffe://other.local/ns/a/sa/b') };
    expect(await codeOf(issuer.issue(foreign))).toBe('ERR_JWTSVID_ISSUED_INVALID');
  });
});
