// JWT-SVID validation (SPIFFE JWT-SVID §2–§6): acceptance and every rejection reason, by code.
import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateJwtSvid, type JwtSvidValidationContext } from '../../src/jwtsvid/index.js';
import { forgeToken, testAuthority, type TestAuthority } from './jwt-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';

const TD = 'hallmark.local';
const SUB = `spiffe://${TD}/ns/payments/sa/api`;
const NOW = Date.UTC(2026, 2, 1, 12);
const NOW_S = NOW / 1000;

let es256: TestAuthority;
let rsa: TestAuthority;
const clock = new ManualClock(NOW);

function context(overrides: Partial<JwtSvidValidationContext> = {}): JwtSvidValidationContext {
  return {
    bundleJwks: [es256.bundleJwk, rsa.bundleJwk],
    audience: 'svc',
    trustDomain: TD,
    clock,
    leewayMs: 0,
    ...overrides,
  };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: SUB, aud: ['svc'], iat: NOW_S, exp: NOW_S + 300, ...overrides };
}

function token(
  payload: Record<string, unknown> = claims(),
  header: Record<string, unknown> = {},
  authority: TestAuthority = es256,
): string {
  return forgeToken({ alg: authority.alg, kid: authority.kid, typ: 'JWT', ...header }, payload, {
    authority,
  });
}

/** The code a validation fails with, or `ok`. */
async function outcome(
  jwt: string,
  ctx: JwtSvidValidationContext = context(),
): Promise<{ code: string; message: string }> {
  try {
    await validateJwtSvid(jwt, ctx);
    return { code: 'ok', message: '' };
  } catch (err) {
    const { code, message } = err as { code: string; message: string };
    return { code, message };
  }
}

beforeAll(() => {
  es256 = testAuthority('ES256');
  rsa = testAuthority('RS256');
});

describe('validateJwtSvid accepts', () => {
  it('a well-formed JWT-SVID and returns the SPIFFE ID, audience, expiry and claims', async () => {
    const result = await validateJwtSvid(token(claims({ 'x-extra': 'kept' })), context());
    expect(result.spiffeId.toString()).toBe(SUB);
    expect(result.spiffeId.trustDomain).toBe(TD);
    expect(result.audience).toEqual(['svc']);
    expect(result.expiresAt).toBe(NOW + 300_000);
    expect(result.kid).toBe(es256.kid);
    expect(result.alg).toBe('ES256');
    expect(result.claims).toEqual(claims({ 'x-extra': 'kept' }));
    expect(Object.isFrozen(result.claims)).toBe(true);
  });

  it.each([
    'RS256',
    'RS384',
    'RS512',
    'ES256',
    'ES384',
    'ES512',
    'PS256',
    'PS384',
    'PS512',
  ] as const)('every allowlisted algorithm: %s', async (alg) => {
    const authority = testAuthority(alg);
    const result = await outcome(
      token(claims(), {}, authority),
      context({ bundleJwks: [authority.bundleJwk] }),
    );
    expect(result.code).toBe('ok');
  });

  it('`aud` as a single string, `typ` JOSE, lowercase jwt or absent (§2.3, RFC 7519 §4.1.3)', async () => {
    expect((await outcome(token(claims({ aud: 'svc' })))).code).toBe('ok');
    expect((await outcome(token(claims(), { typ: 'JOSE' }))).code).toBe('ok');
    expect((await outcome(token(claims(), { typ: 'jwt' }))).code).toBe('ok');
    expect((await outcome(token(claims(), { typ: undefined }))).code).toBe('ok');
  });

  it('the trust domain in spiffe:// form, and several expected audiences when all are present', async () => {
    const jwt = token(claims({ aud: ['a', 'svc', 'b'] }));
    expect((await outcome(jwt, context({ trustDomain: `spiffe://${TD}` }))).code).toBe('ok');
    expect((await outcome(jwt, context({ audience: ['a', 'b'] }))).code).toBe('ok');
    expect((await outcome(jwt, context({ audience: ['a', 'c'] }))).code).toBe(
      'ERR_JWTSVID_AUDIENCE_MISMATCH',
    );
  });

  it('an expired token within the leeway, and refuses it once the leeway has passed', async () => {
    const jwt = token(claims({ exp: NOW_S - 4 }));
    expect((await outcome(jwt, context({ leewayMs: 5_000 }))).code).toBe('ok');
    expect((await outcome(jwt, context({ leewayMs: undefined }))).code).toBe('ok'); // default 5 s
    expect((await outcome(jwt, context({ leewayMs: 4_000 }))).code).toBe('ERR_JWTSVID_EXPIRED');
  });
});

describe('validateJwtSvid refuses, with go-spiffe reasons as codes', () => {
  it('wrong audience', async () => {
    expect(await outcome(token(), context({ audience: 'other' }))).toEqual({
      code: 'ERR_JWTSVID_AUDIENCE_MISMATCH',
      message: 'expected audience in ["other"] (audience=["svc"])',
    });
  });

  it('missing or empty `aud` (§3.2)', async () => {
    const { aud: _aud, ...withoutAud } = claims();
    expect(await outcome(token(withoutAud))).toEqual({
      code: 'ERR_JWTSVID_AUDIENCE_MISSING',
      message: 'expected audience in ["svc"] (audience=[])',
    });
    expect((await outcome(token(claims({ aud: [] })))).code).toBe('ERR_JWTSVID_AUDIENCE_MISSING');
  });

  it('expired (RFC 7519 §4.1.4: the time must be before `exp`)', async () => {
    expect(await outcome(token(claims({ exp: NOW_S })))).toEqual({
      code: 'ERR_JWTSVID_EXPIRED',
      message: 'token has expired',
    });
    expect((await outcome(token(claims({ exp: NOW_S + 1 })))).code).toBe('ok');
  });

  it('missing `exp` (§3.3), and one that is not a number', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    expect(await outcome(token(withoutExp))).toEqual({
      code: 'ERR_JWTSVID_EXPIRY_MISSING',
      message: 'token missing exp claim',
    });
    expect((await outcome(token(claims({ exp: String(NOW_S + 60) })))).code).toBe(
      'ERR_JWTSVID_MALFORMED',
    );
  });

  it('unknown kid, and a kid that only names a non-jwt-svid bundle key (§6.2)', async () => {
    expect(await outcome(token(claims(), { kid: 'nope' }))).toEqual({
      code: 'ERR_JWTSVID_AUTHORITY_UNKNOWN',
      message: 'no JWT authority "nope" found for trust domain "hallmark.local"',
    });
    const x509Use = { ...es256.bundleJwk, use: 'x509-svid' as const };
    expect((await outcome(token(), context({ bundleJwks: [x509Use] }))).code).toBe(
      'ERR_JWTSVID_AUTHORITY_UNKNOWN',
    );
  });

  it('missing kid', async () => {
    expect(await outcome(token(claims(), { kid: undefined }))).toEqual({
      code: 'ERR_JWTSVID_KID_MISSING',
      message: 'token header missing key id',
    });
  });

  it('`alg: none` (unsecured JWT) (§2.1)', async () => {
    const none = new UnsecuredJWT(claims()).encode();
    expect(await outcome(none)).toEqual({
      code: 'ERR_JWTSVID_ALGORITHM_UNSUPPORTED',
      message: 'unsupported token signature algorithm "none"',
    });
    const withKid = forgeToken({ alg: 'none', kid: es256.kid }, claims(), { signature: '' });
    expect((await outcome(withKid)).code).toBe('ERR_JWTSVID_ALGORITHM_UNSUPPORTED');
  });

  it('HS256 keyed with the authority public key as the HMAC secret (key confusion)', async () => {
    for (const authority of [es256, rsa]) {
      const secret = authority.publicKey.export({ format: 'pem', type: 'spki' });
      const forged = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: authority.kid, typ: 'JWT' })
        .sign(new Uint8Array(Buffer.from(secret)));
      expect(await outcome(forged)).toEqual({
        code: 'ERR_JWTSVID_ALGORITHM_UNSUPPORTED',
        message: 'unsupported token signature algorithm "HS256"',
      });
    }
  });

  it('other algorithms outside the allowlist: EdDSA, ES256K, lowercase es256', async () => {
    for (const alg of ['EdDSA', 'ES256K', 'es256', 'HS512']) {
      const forged = forgeToken({ alg, kid: es256.kid }, claims(), { signature: 'AAAA' });
      expect((await outcome(forged)).code).toBe('ERR_JWTSVID_ALGORITHM_UNSUPPORTED');
    }
  });

  it('missing `sub` (§3.1)', async () => {
    const { sub: _sub, ...withoutSub } = claims();
    expect(await outcome(token(withoutSub))).toEqual({
      code: 'ERR_JWTSVID_SUBJECT_MISSING',
      message: 'token missing subject claim',
    });
    expect((await outcome(token(claims({ sub: '' })))).code).toBe('ERR_JWTSVID_SUBJECT_MISSING');
  });

  it('`sub` that is not a SPIFFE ID, with the SPIFFE ID reason', async () => {
    expect(await outcome(token(claims({ sub: 'invalid subject' })))).toEqual({
      code: 'ERR_JWTSVID_SUBJECT_INVALID',
      message: 'token has an invalid subject claim: scheme is missing or invalid',
    });
    expect(await outcome(token(claims({ sub: `spiffe://${TD}/ns/../x` })))).toEqual({
      code: 'ERR_JWTSVID_SUBJECT_INVALID',
      message: 'token has an invalid subject claim: path cannot contain dot segments',
    });
    expect((await outcome(token(claims({ sub: 42 })))).code).toBe('ERR_JWTSVID_SUBJECT_INVALID');
  });

  it('`sub` in another trust domain', async () => {
    expect(await outcome(token(claims({ sub: 'spiffe://other.local/ns/a/sa/b' })))).toEqual({
      code: 'ERR_JWTSVID_TRUST_DOMAIN_MISMATCH',
      message: 'no bundle found for trust domain "other.local"',
    });
  });

  it('`typ` other than JWT or JOSE (§2.3)', async () => {
    expect(await outcome(token(claims(), { typ: 'at+jwt' }))).toEqual({
      code: 'ERR_JWTSVID_TYPE_UNSUPPORTED',
      message: 'unsupported header type "at+jwt", expecting "JWT" or "JOSE"',
    });
  });

  it('a signature that does not verify: altered payload, or another key under the same kid', async () => {
    const [header, , signature] = token().split('.');
    const altered = Buffer.from(JSON.stringify(claims({ sub: `${SUB}x` }))).toString('base64url');
    expect((await outcome(`${header}.${altered}.${signature}`)).code).toBe(
      'ERR_JWTSVID_SIGNATURE_INVALID',
    );
    const impostor = testAuthority('ES256', es256.kid);
    expect((await outcome(token(claims(), {}, impostor))).code).toBe(
      'ERR_JWTSVID_SIGNATURE_INVALID',
    );
  });

  it('a key that does not fit `alg`: RSA key for ES256, P-256 key for ES384, `alg` member', async () => {
    const rsaAsEc = forgeToken({ alg: 'ES256', kid: rsa.kid }, claims(), { signature: 'AAAA' });
    expect((await outcome(rsaAsEc)).code).toBe('ERR_JWTSVID_SIGNATURE_INVALID');
    const p256As384 = forgeToken({ alg: 'ES384', kid: es256.kid }, claims(), { signature: 'AAAA' });
    expect((await outcome(p256As384)).code).toBe('ERR_JWTSVID_SIGNATURE_INVALID');
    const rsaPs = testAuthority('PS256');
    const pinned = { ...rsaPs.bundleJwk, alg: 'RS256' };
    expect(
      (await outcome(token(claims(), {}, rsaPs), context({ bundleJwks: [pinned] }))).code,
    ).toBe('ERR_JWTSVID_SIGNATURE_INVALID');
  });

  it('`nbf` or `iat` in the future beyond the leeway', async () => {
    expect((await outcome(token(claims({ nbf: NOW_S + 10 })))).code).toBe(
      'ERR_JWTSVID_NOT_YET_VALID',
    );
    expect((await outcome(token(claims({ iat: NOW_S + 10 })))).code).toBe(
      'ERR_JWTSVID_NOT_YET_VALID',
    );
    expect(
      (await outcome(token(claims({ iat: NOW_S + 10 })), context({ leewayMs: 10_000 }))).code,
    ).toBe('ok');
  });

  it('anything that is not one compact JWS with JSON header and claims (§5.1)', async () => {
    const valid = token();
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const cases = [
      'invalid token',
      `${header}.${payload}`,
      `${valid}.${signature}`,
      JSON.stringify({ payload, signatures: [{ protected: header, signature }] }),
      `${Buffer.from('not json').toString('base64url')}.${payload}.${signature}`,
      `${header}.${Buffer.from('[1,2]').toString('base64url')}.${signature}`,
      `${header}.${payload}.${signature}${'A'.repeat(16_384)}`,
      token(claims(), { crit: ['exp'], exp: 1 }),
      token(claims({ aud: [1] })),
    ];
    for (const jwt of cases)
      expect((await outcome(jwt)).code, jwt.slice(0, 40)).toBe('ERR_JWTSVID_MALFORMED');
  });

  it('a validator with no expected audience is a programming error, not an open door', async () => {
    for (const audience of [[], '', ['svc', '']]) {
      expect((await outcome(token(), context({ audience }))).code).toBe(
        'ERR_JWTSVID_AUDIENCE_INVALID',
      );
    }
  });
});
