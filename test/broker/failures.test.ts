// 5xx failures half-way through a change: the database is left as it was (or, for update, the values in force).
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_ID } from '../../broker/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { startBrokerHarness, type BrokerHarness } from './helpers/broker-harness.js';
import { CLOUD_FOUNDRY, DELETE_QUERY, osbHeaders } from './helpers/osb-platforms.js';

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBrokerHarness();
});
afterEach(() => {
  Object.assign(h.faults, {
    audit: false,
    failPut: undefined,
    deletePrefix: false,
    apiKeyCreate: false,
  });
});
afterAll(async () => {
  await h?.close();
});

const headers = (): Record<string, string> => osbHeaders(CLOUD_FOUNDRY);
const instancePath = (id: string): string => `/v2/service_instances/${id}`;

/** A provisioned instance with one API-key binding; returns the ids, key id and key. */
async function instanceWithBinding(): Promise<{
  id: string;
  bid: string;
  keyId: string;
  apiKey: string;
}> {
  const id = randomUUID();
  const bid = randomUUID();
  const created = await h.call('PUT', instancePath(id), {
    headers: headers(),
    body: { ...CLOUD_FOUNDRY.provisionBody(), parameters: { secrets: { a: 'alpha', b: 'beta' } } },
  });
  expect(created.status).toBe(201);
  const bound = await h.call('PUT', `${instancePath(id)}/service_bindings/${bid}`, {
    headers: headers(),
    body: CLOUD_FOUNDRY.bindBody(),
  });
  expect(bound.status).toBe(201);
  const credentials = bound.body['credentials'] as Record<string, string>;
  return { id, bid, keyId: credentials['identity']!.slice(4), apiKey: credentials['api_key']! };
}

async function expectUnchanged(
  status: number,
  send: () => Promise<{ status: number; body: Record<string, unknown> }>,
): Promise<void> {
  const before = await h.state();
  const reply = await send();
  expect(reply.status).toBe(status);
  expect(Object.keys(reply.body)).toEqual(['description']);
  expect(await h.state()).toEqual(before);
}

describe('a failed audit write refuses the change (fail closed)', () => {
  it('provision, bind, unbind and deprovision answer 503 and change nothing', async () => {
    const { id, bid } = await instanceWithBinding();
    h.faults.audit = true;
    await expectUnchanged(503, () =>
      h.call('PUT', instancePath(randomUUID()), {
        headers: headers(),
        body: CLOUD_FOUNDRY.provisionBody(),
      }),
    );
    await expectUnchanged(503, () =>
      h.call('PUT', `${instancePath(id)}/service_bindings/${randomUUID()}`, {
        headers: headers(),
        body: CLOUD_FOUNDRY.bindBody(),
      }),
    );
    await expectUnchanged(503, () =>
      h.call('DELETE', `${instancePath(id)}/service_bindings/${bid}?${DELETE_QUERY}`, {
        headers: headers(),
      }),
    );
    await expectUnchanged(503, () =>
      h.call('DELETE', `${instancePath(id)}?${DELETE_QUERY}`, { headers: headers() }),
    );
  });
});

describe('a failing dependency half-way', () => {
  it('provision: a secret write fails after others succeeded → 503, nothing written, one error row', async () => {
    const id = randomUUID();
    h.faults.failPut = 3;
    await expectUnchanged(503, () =>
      h.call('PUT', instancePath(id), {
        headers: headers(),
        body: {
          ...CLOUD_FOUNDRY.provisionBody(),
          parameters: { secrets: { a: '1', b: '2', c: '3', d: '4' } },
        },
      }),
    );
    expect(await h.secrets.count(`osb/${id}/`)).toEqual({ paths: 0, versions: 0 });
    const rows = (await h.auditRows()).filter((row) => row.target.startsWith(`osb/${id}`));
    // The success row was staged in the transaction that rolled back: the error is the only row.
    expect(rows.map((row) => [row.outcome, row.reason])).toEqual([['error', 'ERR_DB_UNAVAILABLE']]);
  });

  it('bind: creating the API key fails → 503, no binding, no key, no grant', async () => {
    const { id } = await instanceWithBinding();
    h.faults.apiKeyCreate = true;
    await expectUnchanged(503, () =>
      h.call('PUT', `${instancePath(id)}/service_bindings/${randomUUID()}`, {
        headers: headers(),
        body: CLOUD_FOUNDRY.bindBody(),
      }),
    );
  });

  it('deprovision: shredding fails → 503, instance, bindings and keys intact, tokens still valid', async () => {
    const { id, keyId, apiKey } = await instanceWithBinding();
    const login = await h.call('POST', '/v1/authn/apikey', {
      auth: null,
      body: { id: keyId, api_key: apiKey },
    });
    const token = login.body['token'] as string;
    h.faults.deletePrefix = true;
    await expectUnchanged(503, () =>
      h.call('DELETE', `${instancePath(id)}?${DELETE_QUERY}`, { headers: headers() }),
    );
    // The rolled-back revocation was never applied, not even on this replica.
    const read = await h.call('GET', `/v1/secrets/osb/${id}/a`, { token });
    expect(read).toMatchObject({ status: 200, body: { value: 'alpha' } });
    h.faults.deletePrefix = false;
    const retried = await h.call('DELETE', `${instancePath(id)}?${DELETE_QUERY}`, {
      headers: headers(),
    });
    expect(retried.status).toBe(200);
    expect((await h.call('GET', `/v1/secrets/osb/${id}/a`, { token })).status).toBe(401);
  });

  it('update: a secret write fails → 503, no version written, the old values in force', async () => {
    const { id } = await instanceWithBinding();
    const paths = [`osb/${id}/a`, `osb/${id}/b`];
    h.faults.failPut = 2;
    await expectUnchanged(503, () =>
      h.call('PATCH', instancePath(id), {
        headers: headers(),
        body: { service_id: SERVICE_ID, parameters: { secrets: { a: 'ALPHA', b: 'BETA' } } },
      }),
    );
    const values = await h.secrets.getMany(paths.map((path) => parseSecretPath(path)));
    expect([...values.values()].map((v) => v.value)).toEqual(['alpha', 'beta']);
  });
});
