// Two server processes on one PostgreSQL: one CA, one policy, one token space, one revocation list.
import { randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import { verifyAuditChain } from '../../src/audit/index.js';
import { HallmarkClient, transportCode } from '../faults/support/hallmark-client.js';
import { auditSettled } from '../helpers/audit-settled.js';
import { unrecordedSerials } from '../faults/support/ledger-checks.js';
import { startLoad, until } from '../faults/support/load-loop.js';
import {
  apiKeyToken,
  leafSerial,
  requestSvid,
  workloadKey,
  workloadToken,
} from '../faults/support/workload.js';
import { startReplicaPair, type ReplicaPair } from './replica-pair.js';

const API = 'spiffe://hallmark.local/ns/payments/sa/api';
const policy = (apiMayRead: boolean): string => `
workloads:
  - namespace: payments
    serviceAccount: api
grants:
${apiMayRead ? `  - to: ${API}\n    read: [payments/*]\n` : ''}`;
const SECRET_PATH = 'payments/db-password';
const SECRET_VALUE = 'replicated-secret-value';
/** The design's promise: a policy change reaches every replica within 1 s (LISTEN/NOTIFY). */
const PROPAGATION_BOUND_MS = 1_000;
const BROKER = { user: 'platform', password: 'replica-broker-password-0123' };
const OSB_HEADERS = {
  authorization: `Basic ${Buffer.from(`${BROKER.user}:${BROKER.password}`).toString('base64')}`,
  'x-broker-api-version': '2.17',
};

describe('two server processes on one PostgreSQL', () => {
  let pair: ReplicaPair;
  let admin: string;
  let projected: string;

  beforeAll(async () => {
    pair = await startReplicaPair({
      HALLMARK_BROKER_USERNAME: BROKER.user,
      HALLMARK_BROKER_PASSWORD: BROKER.password,
    });
    pair.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    projected = await pair.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    admin = await apiKeyToken(pair.a.client, 'admin', pair.adminKey);
    expect(
      (await pair.a.client.call('PUT', '/v1/policy', { yaml: policy(true), token: admin })).status,
    ).toBe(200);
    const put = await pair.b.client.call('PUT', `/v1/secrets/${SECRET_PATH}`, {
      body: { value: SECRET_VALUE },
      token: admin,
    });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await pair?.close();
  });

  /** Polls `check` against `client` until it holds; returns ms from `since`, bounded at 5 s. */
  async function visibleAfter(
    since: number,
    what: string,
    check: () => Promise<boolean>,
  ): Promise<number> {
    await until(what, check, 5_000, 0);
    return performance.now() - since;
  }

  const readSecret = (client: HallmarkClient, token: string) =>
    client.call('GET', `/v1/secrets/${SECRET_PATH}`, { token });

  it('issues SVIDs from both under load, serials unique across replicas and all recorded', async () => {
    const CALLS = 160;
    const keys = Array.from({ length: 8 }, () => workloadKey());
    const load = startLoad({ workers: 8, maxCalls: CALLS, maxMs: 30_000 }, async (worker, call) => {
      const replica = call % 2 === 0 ? 'a' : 'b';
      try {
        const reply = await requestSvid(
          pair[replica].client,
          projected,
          keys[worker] ?? workloadKey(),
        );
        return {
          replica,
          status: reply.status,
          serial: reply.status === 200 ? leafSerial(reply) : undefined,
          code: reply.body.error?.code,
        };
      } catch (err) {
        return { replica, status: 0, serial: undefined, code: transportCode(err) };
      }
    });
    const results = await load.done;
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const serials = results.map((r) => r.serial as string);
    expect(serials).toHaveLength(CALLS);
    expect(new Set(serials).size).toBe(serials.length);
    expect(results.filter((r) => r.replica === 'a')).toHaveLength(CALLS / 2);
    expect(await unrecordedSerials(pair.db, serials)).toEqual([]);
    const signers = await pair.db.query<{ ca_id: string }>(
      'SELECT DISTINCT ca_id FROM issued_certificates WHERE serial = ANY($1::text[])',
      [serials],
    );
    expect(signers.rows).toHaveLength(1); // both replicas sign with the one active CA
  });

  it('accepts an access token from one replica on the other', async () => {
    // SVID from A, mTLS login at B, the token used at A; and the admin's token from A used at B.
    const token = await workloadToken(pair.a.client, pair.b.client, projected);
    expect((await readSecret(pair.a.client, token)).body).toMatchObject({ value: SECRET_VALUE });
    const put = await pair.b.client.call('PUT', '/v1/secrets/payments/written-at-b', {
      body: { value: 'x' },
      token: admin,
    });
    expect(put.status).toBe(200);
  });

  it('serves a secret rewritten through one replica from the other within 1 s', async () => {
    const path = '/v1/secrets/payments/rotated';
    const write = (value: string) =>
      pair.b.client.call('PUT', path, { body: { value }, token: admin });
    expect((await write('before-rotation')).status).toBe(200);
    // A reads it (and caches it) until it has seen B's write.
    await until(
      'A reads the first value',
      async () =>
        (await pair.a.client.call('GET', path, { token: admin })).body.value === 'before-rotation',
      5_000,
      0,
    );
    const written = performance.now();
    expect((await write('after-rotation')).status).toBe(200);
    const ms = await visibleAfter(written, 'A serves the rotated value', async () => {
      const read = await pair.a.client.call('GET', path, { token: admin });
      return read.body.value === 'after-rotation' && read.body.version === 2;
    });
    expect(ms).toBeLessThan(PROPAGATION_BOUND_MS);
  });

  it('enforces a policy change made through one replica on the other within 1 s', async () => {
    const token = await workloadToken(pair.b.client, pair.b.client, projected);
    expect((await readSecret(pair.a.client, token)).status).toBe(200);

    // Take the grant away through A; B must refuse within the bound.
    const revokeSent = performance.now();
    expect(
      (await pair.a.client.call('PUT', '/v1/policy', { yaml: policy(false), token: admin })).status,
    ).toBe(200);
    const revokeCommitted = performance.now();
    const deniedAtB = await visibleAfter(
      revokeCommitted,
      'B to deny after the grant was removed',
      async () => {
        const reply = await readSecret(pair.b.client, token);
        return reply.status === 403 && reply.body.error?.code === 'ERR_POLICY_DENIED';
      },
    );

    // Give it back through B; A must allow within the bound.
    const grantSent = performance.now();
    expect(
      (await pair.b.client.call('PUT', '/v1/policy', { yaml: policy(true), token: admin })).status,
    ).toBe(200);
    const grantCommitted = performance.now();
    const allowedAtA = await visibleAfter(
      grantCommitted,
      'A to allow after the grant was restored',
      async () => {
        return (await readSecret(pair.a.client, token)).status === 200;
      },
    );

    expect(deniedAtB).toBeLessThan(PROPAGATION_BOUND_MS);
    expect(allowedAtA).toBeLessThan(PROPAGATION_BOUND_MS);
    const versions = await Promise.all(
      [pair.a, pair.b].map(
        async (r) => (await r.client.call('GET', '/v1/policy', { token: admin })).body.version,
      ),
    );
    expect(versions[0]).toBe(versions[1]);
    console.info(
      `[replicas] policy propagation: grant removed via A → denied at B ${deniedAtB.toFixed(1)} ms after commit ` +
        `(${(deniedAtB + revokeCommitted - revokeSent).toFixed(1)} ms after send); grant restored via B → allowed at A ` +
        `${allowedAtA.toFixed(1)} ms after commit (${(allowedAtA + grantCommitted - grantSent).toFixed(1)} ms after send)`,
    );
  });

  it('makes the tokens of a binding unbound through one replica fail on both at once', async () => {
    // OSB: provision a scope and bind an app through A; the app logs in at B.
    const instance = `/v2/service_instances/${randomUUID()}`;
    const binding = `${instance}/service_bindings/${randomUUID()}`;
    const context = { platform: 'kubernetes', namespace: 'payments' };
    const ids = { service_id: SERVICE_ID, plan_id: PLAN_ID };
    const provisioned = await pair.a.client.call('PUT', instance, {
      headers: OSB_HEADERS,
      body: { ...ids, context, parameters: { secrets: { 'db-password': 'osb-value' } } },
    });
    expect(provisioned.status).toBe(201);
    const bound = await pair.a.client.call('PUT', binding, {
      headers: OSB_HEADERS,
      body: { ...ids, context },
    });
    expect(bound.status).toBe(201);
    const credentials = bound.body.credentials as {
      identity: string;
      api_key: string;
      secrets_prefix: string;
    };
    const keyId = credentials.identity.slice('key:'.length);
    const token = await apiKeyToken(pair.b.client, keyId, credentials.api_key);
    const scoped = `/v1/secrets/${credentials.secrets_prefix}db-password`;
    for (const replica of [pair.a, pair.b]) {
      expect((await replica.client.call('GET', scoped, { token })).body).toMatchObject({
        value: 'osb-value',
      });
    }

    // Unbind through A: the token must fail on A and on B.
    const unbound = await pair.a.client.call(
      'DELETE',
      `${binding}?service_id=${SERVICE_ID}&plan_id=${PLAN_ID}`,
      {
        headers: OSB_HEADERS,
      },
    );
    expect(unbound.status).toBe(200);
    const unboundAt = performance.now();
    // At once where it happened (applied after COMMIT), and by NOTIFY on the other replica.
    const atA = await pair.a.client.call('GET', scoped, { token });
    expect(atA.body.error?.code).toBe('ERR_AUTHN_TOKEN_REVOKED');
    const atB = await visibleAfter(unboundAt, 'B to refuse the unbound token', async () => {
      const reply = await pair.b.client.call('GET', scoped, { token });
      return reply.status === 401 && reply.body.error?.code === 'ERR_AUTHN_TOKEN_REVOKED';
    });
    expect(atB).toBeLessThan(PROPAGATION_BOUND_MS);
    for (const replica of [pair.a, pair.b]) {
      const login = await replica.client.call('POST', '/v1/authn/apikey', {
        body: { id: keyId, api_key: credentials.api_key },
      });
      expect(login.body.error?.code).toBe('ERR_AUTHN_API_KEY_INVALID');
    }
    console.info(
      `[replicas] OSB unbind via A: the binding's token refused at A on the next call, at B ${atB.toFixed(1)} ms after the unbind answered`,
    );
  });

  it('performs a CA rotation requested through one replica once, and the other serves the new bundle', async () => {
    await auditSettled(pair.db);
    const marker = await pair.db.query<{ seq: string }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM audit_log',
    );
    const before = await pair.b.client.call('GET', '/v1/bundle');
    const rotated = await pair.a.client.call('POST', '/v1/ca/rotate', { token: admin });
    expect(rotated.status).toBe(200);
    const rotatedAt = performance.now();
    const { active_ca: activeCa, spiffe_sequence: sequence } = rotated.body as {
      active_ca: number;
      spiffe_sequence: number;
    };
    expect(sequence).toBeGreaterThan(before.body.spiffe_sequence as number);

    // Trust every CA there is, old and new, whichever of them signs B's serving certificate.
    const cas = await pair.db.query<{ id: string; cert_pem: string }>(
      'SELECT id, cert_pem FROM ca_authorities',
    );
    const atB = new HallmarkClient(pair.b.url, cas.rows.map((row) => row.cert_pem).join(''));
    try {
      const servedAfter = await visibleAfter(rotatedAt, 'B to serve the new bundle', async () => {
        return (await atB.call('GET', '/v1/bundle')).body.spiffe_sequence === sequence;
      });
      const newCa = new X509Certificate(
        cas.rows.find((row) => Number(row.id) === activeCa)?.cert_pem as string,
      );
      const keys = (await atB.call('GET', '/v1/bundle')).body.keys as {
        use: string;
        x5c?: string[];
      }[];
      const published = keys.filter((k) => k.use === 'x509-svid').map((k) => k.x5c?.[0]);
      expect(published).toContain(newCa.raw.toString('base64'));

      // B signs with the new CA.
      const svid = await requestSvid(atB, projected, workloadKey());
      expect(svid.status).toBe(200);
      expect(new X509Certificate(svid.body.svid as string).verify(newCa.publicKey)).toBe(true);
      console.info(
        `[replicas] forced CA rotation via A: B served the new bundle ${servedAfter.toFixed(1)} ms later`,
      );
    } finally {
      await atB.close();
    }
    // The rotation was done once, by the admin, through A: one prepared/activated pair.
    await auditSettled(pair.db);
    const rows = await pair.db.query<{ actor: string; action: string }>(
      "SELECT actor, action FROM audit_log WHERE seq > $1 AND action LIKE 'ca.%' ORDER BY seq",
      [marker.rows[0]?.seq],
    );
    expect(rows.rows).toEqual([
      { actor: 'key:admin', action: 'ca.prepared' },
      { actor: 'key:admin', action: 'ca.activated' },
    ]);
  });

  it('wrote one audit chain between them', async () => {
    expect(await verifyAuditChain(pair.db)).toMatchObject({ ok: true });
  });
});
