// Access tokens: what the issuer signs and every way a forged or stale token is refused.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AccessTokenIssuer,
  AccessTokenVerifier,
  PodPresenceCache,
  type AccessTokenSubject,
} from '../../src/authn/index.js';
import {
  MemoryKeys,
  MemoryPods,
  runningPod,
  testKey,
  type TestKey,
} from '../fixtures/authn/memory-keys.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf, NO_ERROR } from '../helpers/error-code.js';

const ISSUER = 'https://hallmark.test:8443';
const TTL_MS = 8 * 60_000;
const WORKLOAD = 'spiffe://hallmark.local/ns/payments/sa/api';
const POD = { namespace: 'payments', podName: 'api-0', podUid: 'uid-1' };

class Revoked {
  readonly revoked = new Map<string, number>();
  isRevoked(identity: string, issuedAtMs: number): boolean {
    const at = this.revoked.get(identity);
    return at !== undefined && issuedAtMs <= at;
  }
}

let clock: ManualClock;
let keys: MemoryKeys;
let key: TestKey;
let pods: MemoryPods;
let revoked: Revoked;
let issuer: AccessTokenIssuer;
let verifier: AccessTokenVerifier;

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0, 250));
  keys = new MemoryKeys();
  key = await testKey();
  await keys.add(key);
  pods = new MemoryPods();
  pods.set('payments', 'api-0', runningPod('uid-1'));
  revoked = new Revoked();
  issuer = new AccessTokenIssuer(keys, clock, { issuer: ISSUER, ttlMs: TTL_MS });
  verifier = new AccessTokenVerifier(
    keys,
    revoked,
    new PodPresenceCache(pods, clock, { ttlMs: 5_000 }),
    clock,
    {
      issuer: ISSUER,
      clockToleranceMs: 5_000,
    },
  );
});

const workload: AccessTokenSubject = { identity: WORKLOAD, role: 'workload', pod: POD };

/** A token with the right shape signed by `signer`, with `overrides` applied to the claims. */
async function forge(
  signer: TestKey,
  overrides: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const iat = Math.floor(clock.now() / 1000);
  return new SignJWT({
    role: 'workload',
    sub: WORKLOAD,
    iss: ISSUER,
    aud: 'hallmark',
    iat,
    nbf: iat,
    exp: iat + 480,
    jti: 'j1',
    ...overrides,
  })
    .setProtectedHeader({ alg: 'ES256', kid: signer.kid, typ: 'JWT', ...header })
    .sign(signer.privateKey);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The code verifying `token` fails with, or NO_ERROR for a token the verifier accepts. */
function verdictOf(token: string): Promise<string> {
  return codeOf(verifier.verify(token));
}

describe('AccessTokenIssuer', () => {
  it('signs ES256 with kid and typ, and the claims docs/http-api.md lists', async () => {
    const issued = await issuer.issue(workload);
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'JWT' });
    const claims = decodeJwt(issued.token);
    const iat = Math.floor(clock.now() / 1000);
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: WORKLOAD,
      aud: 'hallmark',
      iat,
      nbf: iat,
      exp: iat + 480,
      role: 'workload',
      pod_uid: 'uid-1',
      pod_namespace: 'payments',
      pod_name: 'api-0',
    });
    expect(Buffer.from(claims.jti as string, 'base64url')).toHaveLength(16);
    expect(issued.expiresAt).toBe((iat + 480) * 1000);
    expect(issued.tokenId).toBe(claims.jti);
  });

  it('never outlives notAfter, and gives every token its own jti', async () => {
    const a = await issuer.issue({ ...workload, notAfter: clock.now() + 60_000 });
    const b = await issuer.issue(workload);
    expect(a.expiresAt).toBe(Math.floor((clock.now() + 60_000) / 1000) * 1000);
    expect(a.tokenId).not.toBe(b.tokenId);
  });

  it('marks API-key tokens with their role and no pod claims', async () => {
    const { token } = await issuer.issue({ identity: 'key:admin', role: 'admin' });
    const claims = decodeJwt(token);
    expect(claims.role).toBe('admin');
    expect(claims.pod_uid).toBeUndefined();
  });
});

describe('AccessTokenVerifier', () => {
  it('accepts a fresh token and returns its caller', async () => {
    const issued = await issuer.issue(workload);
    expect(await verifier.verify(issued.token)).toEqual({
      id: WORKLOAD,
      kind: 'workload',
      admin: false,
      podUid: 'uid-1',
      tokenId: issued.tokenId,
      expiresAt: issued.expiresAt,
    });
    const admin = await issuer.issue({ identity: 'key:admin', role: 'admin' });
    expect(await verifier.verify(admin.token)).toMatchObject({
      id: 'key:admin',
      kind: 'apikey',
      admin: true,
      podUid: undefined,
    });
  });

  it('refuses an expired token, allowing only the clock tolerance', async () => {
    const { token, expiresAt } = await issuer.issue(workload);
    clock.set(expiresAt + 4_000);
    expect(await verdictOf(token)).toBe(NO_ERROR);
    clock.set(expiresAt + 5_001);
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('refuses a token that is not yet valid', async () => {
    const iat = Math.floor(clock.now() / 1000) + 60;
    expect(await verdictOf(await forge(key, { iat, nbf: iat, exp: iat + 480 }))).toBe(
      'ERR_AUTHN_TOKEN_INVALID',
    );
  });

  it('refuses a wrong audience or issuer', async () => {
    expect(await verdictOf(await forge(key))).toBe(NO_ERROR);
    expect(await verdictOf(await forge(key, { aud: 'vault' }))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await verdictOf(await forge(key, { iss: 'https://evil.test' }))).toBe(
      'ERR_AUTHN_TOKEN_INVALID',
    );
  });

  it('refuses a tampered payload', async () => {
    const { token } = await issuer.issue({ identity: 'key:app1', role: 'app' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const tampered = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
    expect(await verdictOf(tampered)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('refuses a token signed by an unknown key, or by another key under a known kid', async () => {
    const stranger = await testKey();
    expect(await verdictOf(await forge(stranger))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await verdictOf(await forge(stranger, {}, { kid: key.kid }))).toBe(
      'ERR_AUTHN_TOKEN_INVALID',
    );
  });

  it('refuses alg none, with and without a signature segment', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const claims = {
      sub: WORKLOAD,
      iss: ISSUER,
      aud: 'hallmark',
      iat,
      nbf: iat,
      exp: iat + 480,
      jti: 'j',
      role: 'workload',
    };
    const unsigned = `${b64({ alg: 'none', kid: key.kid, typ: 'JWT' })}.${b64(claims)}`;
    expect(await verdictOf(`${unsigned}.`)).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await verdictOf(`${unsigned}.AAAA`)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('refuses HS256 keyed with the public key (PEM, DER and JWK forms)', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const claims = {
      sub: 'key:admin',
      role: 'admin',
      iss: ISSUER,
      aud: 'hallmark',
      iat,
      nbf: iat,
      exp: iat + 480,
      jti: 'j',
    };
    const signingInput = `${b64({ alg: 'HS256', kid: key.kid, typ: 'JWT' })}.${b64(claims)}`;
    const secrets = [
      key.publicKey.export({ format: 'pem', type: 'spki' }),
      key.publicKey.export({ format: 'der', type: 'spki' }),
      JSON.stringify(key.publicJwk),
    ];
    for (const secret of secrets) {
      const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
      expect(await verdictOf(`${signingInput}.${mac}`)).toBe('ERR_AUTHN_TOKEN_INVALID');
    }
  });

  it('refuses RS256 even under a known kid', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const iat = Math.floor(clock.now() / 1000);
    const token = await new SignJWT({ sub: WORKLOAD, role: 'workload', jti: 'j' })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience('hallmark')
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + 480)
      .sign(rsa.privateKey);
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('refuses tokens without typ JWT, jti or a role that fits the subject', async () => {
    expect(await verdictOf(await forge(key, {}, { typ: 'at+jwt' }))).toBe(
      'ERR_AUTHN_TOKEN_INVALID',
    );
    expect(await verdictOf(await forge(key, { jti: undefined }))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await verdictOf(await forge(key, { role: 'admin' }))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await verdictOf(await forge(key, { sub: 'key:app1', role: 'workload' }))).toBe(
      'ERR_AUTHN_TOKEN_INVALID',
    );
    expect(await verdictOf(await forge(key, { pod_uid: 'uid-1' }))).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('refuses garbage without looking up a key', async () => {
    for (const junk of ['', 'abc', 'a.b', 'a.b.c.d', `${'a'.repeat(5000)}.b.c`, '!!.??.**']) {
      expect(await verdictOf(junk)).toBe('ERR_AUTHN_TOKEN_INVALID');
    }
  });

  it('refuses tokens issued to a revoked identity up to the revocation, not after', async () => {
    const before = await issuer.issue({ identity: 'key:app1', role: 'app' });
    expect(await verdictOf(before.token)).toBe(NO_ERROR); // now remembered as verified
    clock.advance(2_000);
    revoked.revoked.set('key:app1', clock.now());
    expect(await verdictOf(before.token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
    clock.advance(1_000);
    const after = await issuer.issue({ identity: 'key:app1', role: 'app' });
    expect(await verdictOf(after.token)).toBe(NO_ERROR);
  });

  it("refuses a deleted pod's token once the cached verdict is older than the cache window", async () => {
    const { token } = await issuer.issue(workload);
    expect(await verdictOf(token)).toBe(NO_ERROR);
    pods.delete('payments', 'api-0');
    clock.advance(4_999);
    expect(await verdictOf(token)).toBe(NO_ERROR);
    clock.advance(1);
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
  });

  it("refuses a recreated or terminating pod's token", async () => {
    const { token } = await issuer.issue(workload);
    pods.set('payments', 'api-0', runningPod('uid-2'));
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
    const other = await issuer.issue({
      ...workload,
      pod: { ...POD, podName: 'api-1', podUid: 'uid-3' },
    });
    pods.set('payments', 'api-1', { ...runningPod('uid-3'), terminating: true });
    expect(await verdictOf(other.token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
  });
});

type KeySource = ConstructorParameters<typeof AccessTokenVerifier>[0];

describe('AccessTokenVerifier: remembered tokens', () => {
  /** `keys`, counting the key lookups: one per full verification, one per trust check of a hit. */
  function countingKeys(): { lookups: () => number; source: KeySource } {
    let lookups = 0;
    const source: KeySource = {
      verificationKey: (kid) => {
        lookups += 1;
        return keys.verificationKey(kid);
      },
    };
    return { lookups: () => lookups, source };
  }

  function verifierWith(source: KeySource): AccessTokenVerifier {
    return new AccessTokenVerifier(source, revoked, new PodPresenceCache(pods, clock), clock, {
      issuer: ISSUER,
    });
  }

  it('verifies a token once for many concurrent first uses of it', async () => {
    const counted = countingKeys();
    const fresh = verifierWith(counted.source);
    const { token } = await issuer.issue(workload);
    const callers = await Promise.all(Array.from({ length: 20 }, () => fresh.verify(token)));
    expect(callers.every((caller) => caller.id === WORKLOAD)).toBe(true);
    expect(counted.lookups()).toBe(1);
    // A later use is a hit: the key's trust is asked again, the signature is not checked.
    await fresh.verify(token);
    expect(counted.lookups()).toBe(2);
  });

  it('refuses a remembered token once its signing key is no longer trusted', async () => {
    const { token } = await issuer.issue(workload);
    expect(await verdictOf(token)).toBe(NO_ERROR); // now remembered as verified
    keys.forget(key.kid);
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('never remembers a refusal: the same token verifies once its key is known', async () => {
    const later = await testKey();
    const token = await forge(later);
    expect(await verdictOf(token)).toBe('ERR_AUTHN_TOKEN_INVALID');
    await keys.add(later);
    expect(await verdictOf(token)).toBe(NO_ERROR);
  });
});
