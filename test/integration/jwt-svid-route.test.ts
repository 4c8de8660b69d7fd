// POST /v1/svid/jwt over real mutual TLS on 127.0.0.1: X509-SVID in, validated JWT-SVID out, audited.
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { verifiedClientSvid } from '../../src/authn/index.js';
import { bundleDocument } from '../../src/ca/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { HallmarkError } from '../../src/errors/index.js';
import {
  buildApp,
  createMetricsRegistry,
  jwtSvidRoutes,
  type HallmarkApp,
  type JwtSvidCaller,
} from '../../src/http/index.js';
import { JwtAuthorityKeyring, JwtSvidIssuer, validateJwtSvid } from '../../src/jwtsvid/index.js';
import { call, responseCode, type TestResponse } from '../fixtures/authn/mtls-client.js';
import { TestTls } from '../fixtures/authn/test-server.js';
import {
  selfSignedSpiffeLeaf,
  testCa,
  testServerCertificate,
  testSvid,
} from '../fixtures/authn/test-pki.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { ManualClock } from '../doubles/manual-clock.js';

const TD = 'hallmark.local';
const ID = `spiffe://${TD}/ns/payments/sa/api`;
const TTL = 5 * 60_000;

// TLS checks certificates against the real time, so the injected clock starts there.
const start = systemClock.now();
const clock = new ManualClock(start);
const ca = await testCa(TD, start, 'CA one');
const foreign = await testCa('other.local', start, 'Foreign CA');
const serving = await testServerCertificate(ca, TD, clock);
const trustedCas = [ca.certificatePem];

let db: Database;
let app: HallmarkApp;
let port: number;
let keyring: JwtAuthorityKeyring;
/** What the optional caller re-check does in the current test. */
let callerCheck: ((svid: JwtSvidCaller) => Promise<void>) | undefined;
let allowed = true;

function issueJwt(
  client: { keyPem: string; certPem: string } | undefined,
  body: unknown = { audience: ['svc'] },
): Promise<TestResponse> {
  return call({ port, ca: trustedCas, path: '/v1/svid/jwt', client, body });
}

async function auditOf(response: TestResponse): Promise<Record<string, string>> {
  const rows = await db.query<Record<string, string>>(
    'SELECT actor, action, target, outcome, reason FROM audit_log WHERE request_id = $1',
    [response.requestId],
  );
  expect(rows.rowCount).toBe(1);
  return rows.rows[0]!;
}

function publishedJwks(): ReturnType<typeof bundleDocument>['keys'] {
  return bundleDocument(
    { certificatesPem: [ca.certificatePem], sequence: 1, refreshHintSeconds: 300 },
    keyring.bundleJwks(),
  ).keys;
}

beforeAll(async () => {
  ({ db } = await createMigratedDatabase());
  const audit = new PgAuditLog(db, clock);
  const tls = new TestTls({
    key: serving.key,
    cert: serving.cert,
    ca: [ca.certificatePem, foreign.certificatePem],
  });
  keyring = await JwtAuthorityKeyring.start(
    {
      db,
      master: new MasterKey(randomBytes(32)),
      clock,
      audit,
      log: { info: () => undefined, warn: () => undefined },
    },
    { svidTtlMs: TTL, tick: false },
  );
  app = await buildApp({
    audit,
    tls,
    metrics: createMetricsRegistry(),
    logger: false,
    readiness: async () => ({ ready: true }),
  });
  await app.register(jwtSvidRoutes, {
    clientSvid: (socket) =>
      verifiedClientSvid(socket, { bundle: () => tls.current().ca, trustDomain: TD, clock }),
    issuer: new JwtSvidIssuer(keyring, clock, { trustDomain: TD, ttlMs: TTL }),
    audit,
    checkCaller: (svid) => callerCheck?.(svid) ?? Promise.resolve(),
    limiter: { take: () => allowed },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  keyring?.stop();
  await app?.close();
  await db?.close();
});

beforeEach(() => {
  clock.set(start);
  callerCheck = undefined;
  allowed = true;
});

describe('POST /v1/svid/jwt', () => {
  it('issues a JWT-SVID for the client certificate identity that validates with jose and with us', async () => {
    const svid = await testSvid(ca, ID, clock);
    const response = await issueJwt(svid, { audience: ['svc', 'reports'] });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['expires_at', 'spiffe_id', 'token']);
    expect(response.body.spiffe_id).toBe(ID);
    const token = response.body.token as string;

    const jwks = createLocalJWKSet({
      keys: publishedJwks()
        .filter((key) => key.use === 'jwt-svid')
        .map((key) => ({ ...key, use: 'sig' })),
    });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      audience: 'reports',
      typ: 'JWT',
      currentDate: new Date(clock.now()),
    });
    expect(protectedHeader).toEqual({
      alg: 'ES256',
      kid: keyring.signingAuthority().kid,
      typ: 'JWT',
    });
    expect(payload).toEqual({
      sub: ID,
      aud: ['svc', 'reports'],
      iat: Math.floor(start / 1000),
      exp: Math.floor((start + TTL) / 1000),
    });
    expect(response.body.expires_at).toBe(new Date((payload.exp as number) * 1000).toISOString());

    const validated = await validateJwtSvid(token, {
      bundleJwks: publishedJwks(),
      audience: 'svc',
      trustDomain: TD,
      clock,
    });
    expect(validated.spiffeId.toString()).toBe(ID);

    expect(await auditOf(response)).toEqual({
      actor: ID,
      action: 'svid.jwt.issued',
      target: `aud=["svc","reports"] kid=${keyring.signingAuthority().kid}`,
      outcome: 'success',
      reason: '',
    });
  });

  it('never lets the JWT-SVID outlive the X509-SVID it was asked with', async () => {
    const svid = await testSvid(ca, ID, clock, 120);
    const response = await issueJwt(svid);
    expect(response.status).toBe(200);
    const exp = decodeJwt(response.body.token as string).exp as number;
    expect(exp * 1000).toBeLessThanOrEqual(svid.notAfter.getTime());
    expect(exp).toBe(Math.floor(svid.notAfter.getTime() / 1000));
  });

  it('refuses a request without a client certificate, audited as denied', async () => {
    const response = await issueJwt(undefined);
    expect(response.status).toBe(401);
    expect(responseCode(response)).toBe('ERR_AUTHN_CLIENT_CERT_REQUIRED');
    expect(response.body.token).toBeUndefined();
    expect(await auditOf(response)).toMatchObject({
      action: 'svid.jwt.denied',
      actor: 'anonymous',
      outcome: 'denied',
      reason: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
    });
  });

  it('refuses a self-signed SPIFFE certificate and an SVID of another trust domain', async () => {
    const forged = await issueJwt(selfSignedSpiffeLeaf(ID));
    expect(forged.status).toBe(401);
    expect(responseCode(forged)).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
    const other = await issueJwt(await testSvid(foreign, 'spiffe://other.local/ns/a/sa/b', clock));
    expect(other.status).toBe(401);
    expect(responseCode(other)).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
  });

  it('refuses an expired X509-SVID (the injected clock decides, as for login)', async () => {
    const svid = await testSvid(ca, ID, clock, 60);
    clock.advance(61_000);
    const response = await issueJwt(svid);
    expect(responseCode(response)).toBe('ERR_AUTHN_CLIENT_CERT_INVALID');
  });

  it.each([
    ['an empty list', { audience: [] }],
    ['17 audiences', { audience: Array.from({ length: 17 }, (_, i) => `a${i}`) }],
    ['an empty audience', { audience: ['svc', ''] }],
    ['a 257-character audience', { audience: ['x'.repeat(257)] }],
  ])('refuses %s with ERR_JWTSVID_AUDIENCE_INVALID (400)', async (_name, body) => {
    const response = await issueJwt(await testSvid(ca, ID, clock), body);
    expect(response.status).toBe(400);
    expect(responseCode(response)).toBe('ERR_JWTSVID_AUDIENCE_INVALID');
    expect(await auditOf(response)).toMatchObject({ actor: ID, outcome: 'denied' });
  });

  it.each([
    ['no audience', {}],
    ['a string audience', { audience: 'svc' }],
    ['a number in the list', { audience: ['svc', 1] }],
    ['an unknown field', { audience: ['svc'], ttl: 3600 }],
  ])('refuses %s with ERR_REQUEST_INVALID', async (_name, body) => {
    const response = await issueJwt(await testSvid(ca, ID, clock), body);
    expect(response.status).toBe(400);
    expect(responseCode(response)).toBe('ERR_REQUEST_INVALID');
  });

  it('refuses a request with no body at all with ERR_REQUEST_INVALID', async () => {
    const client = await testSvid(ca, ID, clock);
    const response = await call({ port, ca: trustedCas, path: '/v1/svid/jwt', client });
    expect(response.status).toBe(400);
    expect(responseCode(response)).toBe('ERR_REQUEST_INVALID');
  });

  it('applies the caller re-check and the limiter before signing anything', async () => {
    const svid = await testSvid(ca, ID, clock);
    const seen: string[] = [];
    callerCheck = async (caller) => {
      seen.push(caller.spiffeId.toString());
      throw new HallmarkError('ERR_AUTHN_POD_GONE');
    };
    const gone = await issueJwt(svid);
    expect(gone.status).toBe(403);
    expect(responseCode(gone)).toBe('ERR_AUTHN_POD_GONE');
    expect(seen).toEqual([ID]);

    callerCheck = undefined;
    allowed = false;
    const limited = await issueJwt(svid);
    expect(limited.status).toBe(429);
    expect(responseCode(limited)).toBe('ERR_REQUEST_RATE_LIMITED');
  });
});
