// mTLS login and access tokens over a real HTTPS listener on 127.0.0.1 and a migrated database.
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { signCompactJws } from '../../src/keyring/index.js';
import type { Database } from '../../src/db/index.js';
import { compilePolicy, isStillRegistered, type CompiledPolicy } from '../../src/policy/index.js';
import type { SigningAuthority } from '../../src/x509/index.js';
import { MemoryPods, runningPod, testKey } from '../fixtures/authn/memory-keys.js';
import { call, responseCode, type TestResponse } from '../fixtures/authn/mtls-client.js';
import { startReplica, TestTls, type Replica } from '../fixtures/authn/test-server.js';
import {
  selfSignedSpiffeLeaf,
  testCa,
  testServerCertificate,
  testSvid,
  type TestSvid,
} from '../fixtures/authn/test-pki.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { auditSettled } from '../helpers/audit-settled.js';
import { ManualClock } from '../doubles/manual-clock.js';

const TD = 'hallmark.local';
const ISSUER = 'https://127.0.0.1:8443';
const ID = `spiffe://${TD}/ns/payments/sa/api`;
const REGISTERED = `workloads:\n  - namespace: payments\n    serviceAccount: api\n`;
const OTHER_POLICY = `workloads:\n  - namespace: billing\n    serviceAccount: api\n`;

const start = systemClock.now();
const clock = new ManualClock(start);
const ca1 = await testCa(TD, start, 'CA one');
const ca2 = await testCa(TD, start, 'CA two');
const foreign = await testCa('other.local', start, 'Foreign CA');
const serving = await testServerCertificate(ca1, TD, clock);
const trustedCas = [ca1.certificatePem];
const fullBundle = [ca1.certificatePem, ca2.certificatePem, foreign.certificatePem];

let db: Database;
let replica: Replica;
let tls: TestTls;
let pods: MemoryPods;
let policy: CompiledPolicy;
const caIds = new Map<SigningAuthority, number>();

function compile(text: string): CompiledPolicy {
  return compilePolicy(text, { trustDomain: TD, maxTtlSeconds: 86_400 });
}

/** Records an SVID as the issuance route does, so login can find its workload. */
async function record(
  ca: SigningAuthority,
  svid: TestSvid,
  pod: { name: string; uid: string } | null,
): Promise<void> {
  let caId = caIds.get(ca);
  if (caId === undefined) {
    const row = await db.query<{ id: string }>(
      `INSERT INTO ca_authorities (status, key_type, cert_pem, sealed_key, not_before, not_after, created_at)
       VALUES ('old', 'ec-p256', $1, '\\x00', now(), now() + interval '1 day', now()) RETURNING id`,
      [ca.certificatePem],
    );
    caId = Number(row.rows[0]?.id);
    caIds.set(ca, caId);
  }
  const [namespace, serviceAccount] = [svid.spiffeId.split('/')[4], svid.spiffeId.split('/')[6]];
  await db.query(
    `INSERT INTO issued_certificates
       (serial, spiffe_id, ca_id, not_after, public_key_fingerprint, issued_at, namespace, service_account, pod_name, pod_uid)
     VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8, $9)`,
    [
      svid.serialHex,
      svid.spiffeId,
      caId,
      svid.notAfter,
      svid.publicKeyFingerprint,
      namespace,
      serviceAccount,
      pod?.name ?? null,
      pod?.uid ?? null,
    ],
  );
}

function login(
  client?: { keyPem: string; certPem: string },
  body?: unknown,
): Promise<TestResponse> {
  return call({ port: replica.port, ca: trustedCas, path: '/v1/authn/login', client, body });
}

function whoami(token: string, path = '/v1/test/whoami'): Promise<TestResponse> {
  return call({ port: replica.port, ca: trustedCas, method: 'GET', path, token });
}

async function auditOf(response: TestResponse): Promise<Record<string, string> | undefined> {
  const rows = await db.query<Record<string, string>>(
    'SELECT actor, action, target, outcome, reason FROM audit_log WHERE request_id = $1',
    [response.requestId],
  );
  expect(rows.rowCount).toBe(1);
  return rows.rows[0];
}

/** A fresh SVID for ID from CA one, recorded for a running pod. */
async function podSvid(podName: string, podUid: string): Promise<TestSvid> {
  const svid = await testSvid(ca1, ID, clock);
  pods.set('payments', podName, runningPod(podUid));
  await record(ca1, svid, { name: podName, uid: podUid });
  return svid;
}

beforeAll(async () => {
  ({ db } = await createMigratedDatabase());
  pods = new MemoryPods();
  policy = compile(REGISTERED);
  tls = new TestTls({ key: serving.key, cert: serving.cert, ca: fullBundle });
  replica = await startReplica({
    db,
    master: new MasterKey(randomBytes(32)),
    clock,
    pods,
    registrationCheck: (workload, spiffeId) => isStillRegistered(policy, workload, spiffeId),
    tls,
    issuer: ISSUER,
    trustDomain: TD,
  });
});

afterAll(async () => {
  await replica?.close();
  await db?.close();
});

beforeEach(() => {
  clock.set(start);
  policy = compile(REGISTERED);
  tls.set({ key: serving.key, cert: serving.cert, ca: fullBundle });
});

describe('POST /v1/authn/login', () => {
  it('trades a recorded SVID of a live, registered pod for a token, audited with the SPIFFE ID', async () => {
    const svid = await podSvid('api-0', 'uid-0');
    const response = await login(svid);
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['expires_at', 'token']);
    expect(response.body.expires_at).toBe(
      new Date(Math.floor(start / 1000) * 1000 + 480_000).toISOString(),
    );
    expect(await auditOf(response)).toMatchObject({
      actor: ID,
      action: 'authn.login',
      outcome: 'success',
      reason: '',
    });
    const me = await whoami(response.body.token as string);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: ID, admin: false, kind: 'workload' });
    // An empty JSON body is accepted too.
    expect((await login(svid, {})).status).toBe(200);
  });

  it('refuses a request without a client certificate', async () => {
    const response = await login(undefined);
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_REQUIRED',
    ]);
    expect(response.body.error).toEqual({
      code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
      message: 'client certificate required',
    });
    expect(await auditOf(response)).toMatchObject({
      actor: 'anonymous',
      action: 'authn.login',
      outcome: 'denied',
      reason: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
    });
  });

  it('refuses a self-signed certificate with a SPIFFE SAN', async () => {
    const response = await login(selfSignedSpiffeLeaf(ID));
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_INVALID',
    ]);
    expect(response.body.error).toEqual({
      code: 'ERR_AUTHN_CLIENT_CERT_INVALID',
      message: 'client certificate not accepted',
    });
    expect(await auditOf(response)).toMatchObject({
      action: 'authn.login',
      outcome: 'denied',
      reason: 'ERR_AUTHN_CLIENT_CERT_INVALID',
    });
  });

  it('refuses a certificate from a CA removed from the bundle', async () => {
    const svid = await testSvid(ca2, ID, clock);
    pods.set('payments', 'api-ca2', runningPod('uid-ca2'));
    await record(ca2, svid, { name: 'api-ca2', uid: 'uid-ca2' });
    expect((await login(svid)).status).toBe(200);
    tls.set({ key: serving.key, cert: serving.cert, ca: [ca1.certificatePem] });
    const response = await login(svid);
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_INVALID',
    ]);
    expect(await auditOf(response)).toMatchObject({
      outcome: 'denied',
      reason: 'ERR_AUTHN_CLIENT_CERT_INVALID',
    });
  });

  it('refuses an expired SVID', async () => {
    const svid = await testSvid(ca1, ID, new ManualClock(start - 2 * 3_600_000), 3_600);
    pods.set('payments', 'api-old', runningPod('uid-old'));
    await record(ca1, svid, { name: 'api-old', uid: 'uid-old' });
    const response = await login(svid);
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_INVALID',
    ]);
    expect(await auditOf(response)).toMatchObject({
      outcome: 'denied',
      reason: 'ERR_AUTHN_CLIENT_CERT_INVALID',
    });
  });

  it('refuses a valid SVID whose serial this server never recorded', async () => {
    const response = await login(await testSvid(ca1, ID, clock));
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_INVALID',
    ]);
    expect(await auditOf(response)).toMatchObject({
      actor: ID,
      reason: 'ERR_AUTHN_CLIENT_CERT_INVALID',
    });
  });

  it('refuses an SVID of another trust domain, even from a CA in the bundle', async () => {
    const svid = await testSvid(foreign, 'spiffe://other.local/ns/payments/sa/api', clock);
    await record(foreign, svid, null);
    const response = await login(svid);
    expect([response.status, responseCode(response)]).toEqual([
      401,
      'ERR_AUTHN_CLIENT_CERT_INVALID',
    ]);
  });

  it('refuses the SVID of a workload removed from the policy', async () => {
    const svid = await podSvid('api-removed', 'uid-removed');
    expect((await login(svid)).status).toBe(200);
    policy = compile(OTHER_POLICY);
    const response = await login(svid);
    expect([response.status, responseCode(response)]).toEqual([
      403,
      'ERR_AUTHN_WORKLOAD_NOT_REGISTERED',
    ]);
    expect(response.body.error).toEqual({
      code: 'ERR_AUTHN_WORKLOAD_NOT_REGISTERED',
      message: 'workload is no longer registered',
    });
    expect(await auditOf(response)).toMatchObject({
      actor: ID,
      action: 'authn.login',
      outcome: 'denied',
      reason: 'ERR_AUTHN_WORKLOAD_NOT_REGISTERED',
    });
  });

  it('refuses the SVID of a pod deleted since issuance', async () => {
    const svid = await podSvid('api-deleted', 'uid-deleted');
    pods.delete('payments', 'api-deleted');
    const response = await login(svid);
    expect([response.status, responseCode(response)]).toEqual([403, 'ERR_AUTHN_POD_GONE']);
    expect(await auditOf(response)).toMatchObject({
      actor: ID,
      outcome: 'denied',
      reason: 'ERR_AUTHN_POD_GONE',
    });
  });

  it('refuses a body with unexpected fields', async () => {
    const svid = await podSvid('api-body', 'uid-body');
    const response = await login(svid, {
      spiffe_id: 'spiffe://hallmark.local/ns/kube-system/sa/admin',
    });
    expect([response.status, responseCode(response)]).toEqual([400, 'ERR_REQUEST_INVALID']);
  });
});

describe('access tokens on a protected route', () => {
  let token: string;

  beforeEach(async () => {
    const svid = await podSvid(
      `api-${randomBytes(4).toString('hex')}`,
      `uid-${randomBytes(4).toString('hex')}`,
    );
    token = (await login(svid)).body.token as string;
  });

  /** A token with valid shape signed by the live signing key, with `claims` changed. */
  async function signed(claims: Record<string, unknown>): Promise<string> {
    const { kid, signer } = replica.authn.keyring.signingKey();
    const iat = Math.floor(clock.now() / 1000);
    const payload = {
      sub: ID,
      role: 'workload',
      jti: 'x',
      iss: ISSUER,
      aud: 'hallmark',
      iat,
      nbf: iat,
      exp: iat + 480,
      ...claims,
    };
    return signCompactJws(signer, { alg: 'ES256', kid, typ: 'JWT' }, JSON.stringify(payload));
  }

  async function expect401(candidate: string, code = 'ERR_AUTHN_TOKEN_INVALID'): Promise<void> {
    const response = await whoami(candidate);
    expect([response.status, responseCode(response)]).toEqual([401, code]);
    expect(response.body.error).toEqual({ code, message: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toContain(candidate.split('.')[1]);
  }

  it('accepts the genuine token and a correctly forged control', async () => {
    expect((await whoami(token)).status).toBe(200);
    expect((await whoami(await signed({}))).status).toBe(200);
  });

  it('refuses a missing token', async () => {
    const response = await call({
      port: replica.port,
      ca: trustedCas,
      method: 'GET',
      path: '/v1/test/whoami',
    });
    expect([response.status, responseCode(response)]).toEqual([401, 'ERR_AUTHN_TOKEN_MISSING']);
  });

  it('refuses an expired token', async () => {
    clock.advance(480_000 + 5_001);
    await expect401(token);
  });

  it('refuses a wrong audience', async () => {
    await expect401(await signed({ aud: 'vault' }));
  });

  it('refuses a tampered payload', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, sub: `spiffe://${TD}/ns/kube-system/sa/admin` }),
    ).toString('base64url');
    await expect401(`${header}.${forged}.${signature}`);
  });

  it('refuses a token signed by an unknown key', async () => {
    const stranger = await testKey();
    const iat = Math.floor(clock.now() / 1000);
    const forged = await new SignJWT({
      sub: ID,
      role: 'workload',
      jti: 'x',
      iss: ISSUER,
      aud: 'hallmark',
      iat,
      nbf: iat,
      exp: iat + 480,
    })
      .setProtectedHeader({ alg: 'ES256', kid: stranger.kid, typ: 'JWT' })
      .sign(stranger.privateKey);
    await expect401(forged);
  });

  it('refuses alg none', async () => {
    const [, payload] = token.split('.') as [string, string];
    const header = Buffer.from(
      JSON.stringify({ alg: 'none', typ: 'JWT', kid: replica.authn.keyring.signingKey().kid }),
    ).toString('base64url');
    await expect401(`${header}.${payload}.`);
    await expect401(`${header}.${payload}.e30`);
  });

  it('refuses HS256 with the public key as the secret', async () => {
    const [, payload] = token.split('.') as [string, string];
    const { kid } = replica.authn.keyring.signingKey();
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid })).toString(
      'base64url',
    );
    const jwk = replica.authn.keyring.publicJwks().find((k) => k.kid === kid);
    for (const secret of [JSON.stringify(jwk), (jwk?.x ?? '') + (jwk?.y ?? '')]) {
      const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      await expect401(`${header}.${payload}.${mac}`);
    }
  });

  it('keeps workloads out of admin routes', async () => {
    const response = await whoami(token, '/v1/test/admin');
    expect([response.status, responseCode(response)]).toEqual([403, 'ERR_AUTHN_NOT_ADMIN']);
  });

  it("refuses a deleted pod's token once the pod cache window has passed", async () => {
    const svid = await podSvid('api-doomed', 'uid-doomed');
    const doomed = (await login(svid)).body.token as string;
    expect((await whoami(doomed)).status).toBe(200);
    pods.delete('payments', 'api-doomed');
    const lookups = pods.lookups;
    expect((await whoami(doomed)).status).toBe(200); // cached verdict, no Kubernetes call
    expect(pods.lookups).toBe(lookups);
    clock.advance(5_000);
    await expect401(doomed, 'ERR_AUTHN_TOKEN_REVOKED');
    expect((await whoami(token)).status).toBe(200); // other pods' tokens are unaffected
  });
});

describe('POST /v1/authn/apikey', () => {
  function apikey(body: unknown): Promise<TestResponse> {
    return call({ port: replica.port, ca: trustedCas, path: '/v1/authn/apikey', body });
  }

  it('trades an app key for a token; admin keys reach admin routes', async () => {
    const key = await replica.authn.createApiKey({ id: 'app-1', role: 'app' });
    const response = await apikey({ id: 'app-1', api_key: key });
    expect(response.status).toBe(200);
    expect(await auditOf(response)).toMatchObject({
      actor: 'key:app-1',
      action: 'authn.apikey',
      outcome: 'success',
    });
    expect((await whoami(response.body.token as string)).body).toEqual({
      id: 'key:app-1',
      admin: false,
      kind: 'apikey',
    });
    expect(responseCode(await whoami(response.body.token as string, '/v1/test/admin'))).toBe(
      'ERR_AUTHN_NOT_ADMIN',
    );

    const adminKey = await replica.authn.createApiKey({ id: 'admin', role: 'admin' });
    const admin = await apikey({ id: 'admin', api_key: adminKey });
    expect((await whoami(admin.body.token as string, '/v1/test/admin')).body).toEqual({
      id: 'key:admin',
      admin: true,
      kind: 'apikey',
    });
  });

  it('refuses unknown id, wrong key and revoked key with one code', async () => {
    const key = await replica.authn.createApiKey({ id: 'app-2', role: 'app' });
    const cases = [
      { id: 'nobody', api_key: key },
      { id: 'app-2', api_key: `${key}x` },
      { id: '../../etc', api_key: key },
    ];
    for (const body of cases) {
      const response = await apikey(body);
      expect([response.status, response.body]).toEqual([
        401,
        { error: { code: 'ERR_AUTHN_API_KEY_INVALID', message: 'API key not accepted' } },
      ]);
      expect(await auditOf(response)).toMatchObject({
        action: 'authn.apikey',
        outcome: 'denied',
        reason: 'ERR_AUTHN_API_KEY_INVALID',
      });
    }
    const good = await apikey({ id: 'app-2', api_key: key });
    expect(good.status).toBe(200);
    expect(await replica.authn.revokeApiKey('app-2', 'key:admin')).toBe(true);
    const revoked = await apikey({ id: 'app-2', api_key: key });
    expect([revoked.status, responseCode(revoked)]).toEqual([401, 'ERR_AUTHN_API_KEY_INVALID']);
    expect(responseCode(await whoami(good.body.token as string))).toBe('ERR_AUTHN_TOKEN_REVOKED');
  });

  it('stores keys only as hashes', async () => {
    const key = await replica.authn.createApiKey({ id: 'app-3', role: 'app' });
    const dump = await db.query<{ row: string }>(
      "SELECT row_to_json(api_keys)::text AS row FROM api_keys WHERE id = 'app-3'",
    );
    expect(dump.rows[0]?.row).not.toContain(key);
    expect(dump.rows[0]?.row).not.toContain(key.slice(4, 30));
  });

  it('never writes keys or tokens to the audit log', async () => {
    const key = await replica.authn.createApiKey({ id: 'app-4', role: 'app' });
    const good = await apikey({ id: 'app-4', api_key: key });
    await apikey({ id: 'app-4', api_key: `${key}0` });
    const token = good.body.token as string;
    expect((await whoami(`${token}x`)).status).toBe(401);
    await auditSettled(db);
    const dump = await db.query<{ rows: string }>(
      "SELECT string_agg(row_to_json(audit_log)::text, '\n') AS rows FROM audit_log",
    );
    for (const secret of [key, token.split('.')[1] as string, token.split('.')[2] as string]) {
      expect(dump.rows[0]?.rows).not.toContain(secret);
    }
  });

  it('rejects a malformed body', async () => {
    const response = await apikey({ id: 'app-1' });
    expect([response.status, responseCode(response)]).toEqual([400, 'ERR_REQUEST_INVALID']);
  });
});
