// The whole OSB lifecycle over HTTPS, as Cloud Foundry and as Kubernetes drive it, down to the app's secret read.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import { checkApiVersion } from '../../broker/api-version.js';
import { catalogFor } from '../../broker/catalog-versions.js';
import { apiKeyMatches } from '../../src/authn/index.js';
import {
  BROKER_PASSWORD,
  BROKER_USER,
  startBrokerHarness,
  TRUST_DOMAIN,
  type BrokerHarness,
} from './helpers/broker-harness.js';
import {
  CLOUD_FOUNDRY,
  DELETE_QUERY,
  KUBERNETES,
  osbHeaders,
  type OsbPlatform,
} from './helpers/osb-platforms.js';

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBrokerHarness();
});
afterAll(async () => {
  await h?.close();
});

async function rowCount(sql: string, values: unknown[] = []): Promise<number> {
  const result = await h.db.query<{ n: string }>(sql, values);
  return Number(result.rows[0]?.n);
}

describe.each([CLOUD_FOUNDRY, KUBERNETES])('lifecycle as $name', (platform: OsbPlatform) => {
  const instanceId = randomUUID();
  const bindingId = randomUUID();
  const instancePath = `/v2/service_instances/${instanceId}`;
  const bindingPath = `${instancePath}/service_bindings/${bindingId}`;
  const password = `pw-${randomUUID()}`;
  const secrets = { 'db-password': password, 'api-token': 'tok-ü-€-42' };

  it('catalog → provision → bind → app reads → unbind → token refused → deprovision → scope gone', async () => {
    const catalogHeaders = osbHeaders(platform, false);
    const catalog = await h.call('GET', '/v2/catalog', { headers: catalogHeaders });
    expect(catalog.status).toBe(200);
    expect(catalog.body).toEqual(catalogFor(checkApiVersion(platform.version)));
    expect(catalog.headers['x-broker-api-request-identity']).toBe(
      catalogHeaders['x-broker-api-request-identity'],
    );

    const provisioned = await h.call('PUT', `${instancePath}?accepts_incomplete=true`, {
      headers: osbHeaders(platform),
      body: { ...platform.provisionBody(), parameters: { secrets } },
    });
    expect(provisioned).toMatchObject({ status: 201, body: {} });
    expect(await h.secrets.count(`osb/${instanceId}/`)).toEqual({ paths: 2, versions: 2 });
    // At rest only ciphertext: no column of any version contains the value.
    expect(
      await rowCount(
        "SELECT count(*) AS n FROM secret_versions WHERE position(convert_to($1, 'UTF8') IN ciphertext) > 0 OR position(convert_to($1, 'UTF8') IN wrapped_key) > 0",
        [password],
      ),
    ).toBe(0);

    const fetched = await h.call('GET', instancePath, { headers: osbHeaders(platform) });
    expect(fetched).toMatchObject({
      status: 200,
      body: { service_id: SERVICE_ID, plan_id: PLAN_ID },
    });
    const lastOp = await h.call('GET', `${instancePath}/last_operation?service_id=${SERVICE_ID}`, {
      headers: osbHeaders(platform),
    });
    expect(lastOp).toMatchObject({ status: 200, body: { state: 'succeeded' } });

    const bound = await h.call('PUT', `${bindingPath}?accepts_incomplete=true`, {
      headers: osbHeaders(platform),
      body: platform.bindBody(),
    });
    expect(bound.status).toBe(201);
    const credentials = bound.body['credentials'] as Record<string, string>;
    expect(Object.keys(credentials).sort()).toEqual(
      ['api_key', 'bundle', 'identity', 'secrets_prefix', 'trust_domain', 'url'].sort(),
    );
    expect(credentials['url']).toBe(h.url);
    expect(credentials['trust_domain']).toBe(TRUST_DOMAIN);
    expect(credentials['bundle']).toBe(h.bundlePem);
    expect(credentials['secrets_prefix']).toBe(`osb/${instanceId}/`);
    expect(credentials['identity']).toMatch(new RegExp(`^key:osb-${bindingId}\\.[0-9a-f]{12}$`));
    const keyId = (credentials['identity'] as string).slice('key:'.length);
    const apiKey = credentials['api_key'] as string;
    // Only the key's SHA-256 is stored.
    const keyRow = await h.db.query<{ key_hash: Buffer; role: string; revoked_at: Date | null }>(
      'SELECT key_hash, role, revoked_at FROM api_keys WHERE id = $1',
      [keyId],
    );
    expect(keyRow.rows).toHaveLength(1);
    expect(apiKeyMatches(apiKey, keyRow.rows[0]!.key_hash)).toBe(true);
    expect(keyRow.rows[0]).toMatchObject({ role: 'app', revoked_at: null });

    // The app logs in with the key and reads the instance's secret.
    const login = await h.call('POST', '/v1/authn/apikey', {
      auth: null,
      body: { id: keyId, api_key: apiKey },
    });
    expect(login.status).toBe(200);
    const token = login.body['token'] as string;
    const read = await h.call('GET', `/v1/secrets/osb/${instanceId}/db-password`, { token });
    expect(read).toMatchObject({
      status: 200,
      body: { path: `osb/${instanceId}/db-password`, value: password },
    });
    const outside = await h.call('GET', `/v1/secrets/osb/${randomUUID()}/db-password`, { token });
    expect(outside.status).toBe(403);

    // A repeated bind is 200 with the same credentials, except the key (only its hash exists).
    const again = await h.call('PUT', bindingPath, {
      headers: osbHeaders(platform),
      body: platform.bindBody(),
    });
    expect(again.status).toBe(200);
    const { api_key: _omitted, ...withoutKey } = credentials;
    expect(again.body).toEqual({ credentials: withoutKey });
    const fetchedBinding = await h.call('GET', bindingPath, { headers: osbHeaders(platform) });
    expect(fetchedBinding).toMatchObject({
      status: 200,
      body: { credentials: withoutKey, parameters: {} },
    });
    const bindingOp = await h.call('GET', `${bindingPath}/last_operation`, {
      headers: osbHeaders(platform),
    });
    expect(bindingOp).toMatchObject({ status: 200, body: { state: 'succeeded' } });

    const unbound = await h.call(
      'DELETE',
      `${bindingPath}?${DELETE_QUERY}&accepts_incomplete=true`,
      {
        headers: osbHeaders(platform),
      },
    );
    expect(unbound).toMatchObject({ status: 200, body: {} });
    expect(
      await rowCount('SELECT count(*) AS n FROM revocations WHERE identity = $1', [`key:${keyId}`]),
    ).toBe(1);
    expect(
      await rowCount(
        'SELECT count(*) AS n FROM api_keys WHERE id = $1 AND revoked_at IS NOT NULL',
        [keyId],
      ),
    ).toBe(1);

    // The token the app already holds stops working at once; so does the key.
    const refused = await h.call('GET', `/v1/secrets/osb/${instanceId}/db-password`, { token });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'ERR_AUTHN_TOKEN_REVOKED' } });
    const relogin = await h.call('POST', '/v1/authn/apikey', {
      auth: null,
      body: { id: keyId, api_key: apiKey },
    });
    expect(relogin.status).toBe(401);

    const deprovisioned = await h.call(
      'DELETE',
      `${instancePath}?${DELETE_QUERY}&accepts_incomplete=true`,
      {
        headers: osbHeaders(platform),
      },
    );
    expect(deprovisioned).toMatchObject({ status: 200, body: {} });
    expect(await h.secrets.count(`osb/${instanceId}/`)).toEqual({ paths: 0, versions: 0 });
    expect(
      await rowCount(
        "SELECT count(*) AS n FROM secret_versions WHERE path LIKE 'osb/' || $1 || '/%'",
        [instanceId],
      ),
    ).toBe(0);
    expect(
      await rowCount('SELECT count(*) AS n FROM osb_instances WHERE instance_id = $1', [
        instanceId,
      ]),
    ).toBe(0);
    const gone = await h.call('GET', instancePath, { headers: osbHeaders(platform) });
    expect(gone.status).toBe(404);

    // Every call is in the audit chain with the platform user as actor.
    const rows = (await h.auditRows()).filter(
      (row) => row.action.startsWith('osb.') && row.target.includes(instanceId),
    );
    expect(rows.map((row) => [row.action, row.outcome, row.actor])).toEqual([
      ['osb.provision', 'success', platform.actor],
      ['osb.instance.fetch', 'success', platform.actor],
      ['osb.instance.last_operation', 'success', platform.actor],
      ['osb.bind', 'success', platform.actor],
      ['osb.bind', 'success', platform.actor],
      ['osb.binding.fetch', 'success', platform.actor],
      ['osb.binding.last_operation', 'success', platform.actor],
      ['osb.unbind', 'success', platform.actor],
      ['osb.deprovision', 'success', platform.actor],
      ['osb.instance.fetch', 'denied', platform.actor],
    ]);
    expect(rows.find((row) => row.action === 'osb.unbind')?.target).toContain(
      `identity=key:${keyId}`,
    );
    // The binding's API key is created and revoked with the rows the server's own keys get.
    const keyRows = (await h.auditRows()).filter((row) => row.action.startsWith('authn.api_key.'));
    expect(
      keyRows
        .filter((row) => row.target.startsWith(`key:${keyId}`))
        .map((row) => [row.action, row.outcome, row.actor, row.target]),
    ).toEqual([
      ['authn.api_key.created', 'success', platform.actor, `key:${keyId} role=app`],
      ['authn.api_key.revoked', 'success', platform.actor, `key:${keyId}`],
    ]);
    // Neither secret values, nor the API key, nor the broker password reach the audit log or the logs.
    const audited = JSON.stringify(await h.auditRows());
    const logged = h.logs.join('');
    expect(logged).toContain('/v2/service_instances');
    for (const text of [audited, logged]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(apiKey);
      expect(text).not.toContain(BROKER_PASSWORD);
      expect(text).not.toContain(
        Buffer.from(`${BROKER_USER}:${BROKER_PASSWORD}`).toString('base64'),
      );
    }
  });
});

describe('Kubernetes workload binding', () => {
  it('grants the bound namespace/service account read on the scope, nobody else, until unbind', async () => {
    const instanceId = randomUUID();
    const bindingPath = `/v2/service_instances/${instanceId}/service_bindings/${randomUUID()}`;
    const headers = (): Record<string, string> => osbHeaders(KUBERNETES);
    const provisioned = await h.call('PUT', `/v2/service_instances/${instanceId}`, {
      headers: headers(),
      body: {
        ...KUBERNETES.provisionBody(),
        parameters: { secrets: { dsn: 'postgres://payments' } },
      },
    });
    expect(provisioned.status).toBe(201);
    const bound = await h.call('PUT', bindingPath, {
      headers: headers(),
      body: {
        ...KUBERNETES.bindBody(),
        parameters: { namespace: 'payments', serviceAccount: 'api' },
      },
    });
    expect(bound.status).toBe(201);
    const apiId = `spiffe://${TRUST_DOMAIN}/ns/payments/sa/api`;
    expect(bound.body).toEqual({
      credentials: {
        url: h.url,
        trust_domain: TRUST_DOMAIN,
        identity: apiId,
        bundle: h.bundlePem,
        secrets_prefix: `osb/${instanceId}/`,
      },
    });

    // Access tokens as mTLS login would issue them for each pod's SVID.
    const podToken = async (id: string): Promise<string> =>
      (await h.authn.issuer.issue({ identity: id, role: 'workload' })).token;
    const path = `/v1/secrets/osb/${instanceId}/dsn`;
    const api = await h.call('GET', path, { token: await podToken(apiId) });
    expect(api).toMatchObject({ status: 200, body: { value: 'postgres://payments' } });
    const worker = await h.call('GET', path, {
      token: await podToken(`spiffe://${TRUST_DOMAIN}/ns/payments/sa/worker`),
    });
    expect(worker.status).toBe(403);
    const otherNamespace = await h.call('GET', path, {
      token: await podToken(`spiffe://${TRUST_DOMAIN}/ns/billing/sa/api`),
    });
    expect(otherNamespace.status).toBe(403);

    const unbound = await h.call('DELETE', `${bindingPath}?${DELETE_QUERY}`, {
      headers: headers(),
    });
    expect(unbound.status).toBe(200);
    const after = await h.call('GET', path, { token: await podToken(apiId) });
    expect(after.status).toBe(403);
  });
});
