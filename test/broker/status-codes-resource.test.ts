// OSB 2.17 status codes about resources: 409, 410, 200 repeats, 422, 404 — each refusal changes nothing.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_LOCK_CLASSES, PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { startBrokerHarness, type BrokerHarness, type Reply } from './helpers/broker-harness.js';
import { CLOUD_FOUNDRY, DELETE_QUERY, KUBERNETES, osbHeaders } from './helpers/osb-platforms.js';
import {
  bindingPath,
  fixtureIds,
  headers,
  instancePath,
  provisionBody,
  provisionFixture,
  refused as refusedOn,
  type RefusedRequest,
} from './helpers/refusal.js';

let h: BrokerHarness;
const fixture = fixtureIds();
const { existing, existingBinding } = fixture;

beforeAll(async () => {
  h = await startBrokerHarness();
  await provisionFixture(h, fixture);
});
afterAll(async () => {
  await h?.close();
});

/** {@link refusedOn} against this file's harness. */
const refused = (...request: RefusedRequest): Promise<Reply> => refusedOn(h, ...request);

describe('409 Conflict', () => {
  it('provision of an existing id with other parameters', async () => {
    await refused(
      'PUT',
      instancePath(existing),
      { headers: headers(), body: provisionBody({ a: 'other' }) },
      {
        status: 409,
        code: 'ERR_BROKER_INSTANCE_CONFLICT',
      },
    );
    await refused(
      'PUT',
      instancePath(existing),
      { headers: headers(), body: provisionBody({ a: '1', b: '2' }) },
      {
        status: 409,
        code: 'ERR_BROKER_INSTANCE_CONFLICT',
      },
    );
  });

  it('provision repeated after an update added a secret (the scope holds more)', async () => {
    const id = randomUUID();
    expect(
      (await h.call('PUT', instancePath(id), { headers: headers(), body: provisionBody() })).status,
    ).toBe(201);
    const updated = await h.call('PATCH', instancePath(id), {
      headers: headers(),
      body: { service_id: SERVICE_ID, parameters: { secrets: { extra: 'x' } } },
    });
    expect(updated.status).toBe(200);
    await refused(
      'PUT',
      instancePath(id),
      { headers: headers(), body: provisionBody() },
      {
        status: 409,
        code: 'ERR_BROKER_INSTANCE_CONFLICT',
      },
    );
  });

  it('provision of an existing id with other attributes', async () => {
    await refused(
      'PUT',
      instancePath(existing),
      { headers: headers(), body: { ...provisionBody(), space_guid: randomUUID() } },
      {
        status: 409,
        code: 'ERR_BROKER_INSTANCE_CONFLICT',
      },
    );
  });

  it('bind of an existing binding id with other parameters or under another instance', async () => {
    await refused(
      'PUT',
      bindingPath(existing, existingBinding),
      {
        headers: headers(),
        body: {
          ...CLOUD_FOUNDRY.bindBody(),
          parameters: { namespace: 'payments', serviceAccount: 'api' },
        },
      },
      { status: 409, code: 'ERR_BROKER_BINDING_CONFLICT' },
    );
    const other = randomUUID();
    expect(
      (await h.call('PUT', instancePath(other), { headers: headers(), body: provisionBody() }))
        .status,
    ).toBe(201);
    await refused(
      'PUT',
      bindingPath(other, existingBinding),
      { headers: headers(), body: CLOUD_FOUNDRY.bindBody() },
      {
        status: 409,
        code: 'ERR_BROKER_BINDING_CONFLICT',
      },
    );
  });
});

describe('410 Gone', () => {
  it('deprovision of an unknown instance', async () => {
    await refused(
      'DELETE',
      `${instancePath(randomUUID())}?${DELETE_QUERY}`,
      { headers: headers() },
      {
        status: 410,
        code: 'ERR_BROKER_INSTANCE_GONE',
      },
    );
  });

  it('unbind of an unknown binding, or of a binding under another instance', async () => {
    await refused(
      'DELETE',
      `${bindingPath(existing, randomUUID())}?${DELETE_QUERY}`,
      { headers: headers() },
      {
        status: 410,
        code: 'ERR_BROKER_BINDING_GONE',
      },
    );
    await refused(
      'DELETE',
      `${bindingPath(randomUUID(), existingBinding)}?${DELETE_QUERY}`,
      { headers: headers() },
      {
        status: 410,
        code: 'ERR_BROKER_BINDING_GONE',
      },
    );
  });
});

describe('200 OK for identical repeats', () => {
  it('provision repeated with identical attributes and parameters changes nothing', async () => {
    const before = await h.state();
    const reply = await h.call('PUT', instancePath(existing), {
      headers: headers(),
      body: provisionBody(),
    });
    expect(reply).toMatchObject({ status: 200, body: {} });
    expect(await h.state()).toEqual(before);
    // Key order and whitespace are not attributes.
    const reversed = (o: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(o).reverse());
    const body = provisionBody();
    const reordered = JSON.stringify(
      reversed({ ...body, context: reversed(body['context'] as Record<string, unknown>) }),
      null,
      2,
    );
    const again = await h.call('PUT', instancePath(existing), {
      headers: { ...headers(), 'content-type': 'application/json' },
      raw: ` ${reordered} `,
    });
    expect(again.status).toBe(200);
  });

  it('bind repeated with identical parameters changes nothing and returns no key', async () => {
    const before = await h.state();
    const reply = await h.call('PUT', bindingPath(existing, existingBinding), {
      headers: headers(),
      body: CLOUD_FOUNDRY.bindBody(),
    });
    expect(reply.status).toBe(200);
    expect(reply.body['credentials']).not.toHaveProperty('api_key');
    expect(await h.state()).toEqual(before);
  });
});

describe('422 Unprocessable Entity', () => {
  it('MaintenanceInfoConflict: provision or update with another maintenance_info.version', async () => {
    await refused(
      'PUT',
      instancePath(randomUUID()),
      {
        headers: headers(),
        body: { ...provisionBody(), maintenance_info: { version: '0.9.0' } },
      },
      {
        status: 422,
        code: 'ERR_BROKER_MAINTENANCE_INFO_CONFLICT',
        error: 'MaintenanceInfoConflict',
      },
    );
    await refused(
      'PATCH',
      instancePath(existing),
      {
        headers: headers(),
        body: {
          service_id: SERVICE_ID,
          parameters: { secrets: { a: '2' } },
          maintenance_info: { version: '2.0.0' },
        },
      },
      {
        status: 422,
        code: 'ERR_BROKER_MAINTENANCE_INFO_CONFLICT',
        error: 'MaintenanceInfoConflict',
      },
    );
    const matching = await h.call('PUT', instancePath(randomUUID()), {
      headers: headers(),
      body: { ...provisionBody(), maintenance_info: { version: '1.0.0' } },
    });
    expect(matching.status).toBe(201);
  });

  it('ConcurrencyError: an operation on an instance another operation holds', async () => {
    const held = randomUUID();
    expect(
      (await h.call('PUT', instancePath(held), { headers: headers(), body: provisionBody() }))
        .status,
    ).toBe(201);
    const boundId = randomUUID();
    expect(
      (
        await h.call('PUT', bindingPath(held, boundId), {
          headers: headers(),
          body: CLOUD_FOUNDRY.bindBody(),
        })
      ).status,
    ).toBe(201);
    // Another session holds the instance's lock, as a provision in flight on another replica does.
    const other = new pg.Client({ connectionString: h.databaseUrl });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        BROKER_LOCK_CLASSES.instance,
        held,
      ]);
      const concurrency = {
        status: 422,
        code: 'ERR_BROKER_CONCURRENCY',
        error: 'ConcurrencyError',
      };
      await refused(
        'PUT',
        instancePath(held),
        { headers: headers(), body: provisionBody() },
        concurrency,
      );
      await refused(
        'PATCH',
        instancePath(held),
        {
          headers: headers(),
          body: { service_id: SERVICE_ID, parameters: { secrets: { a: '3' } } },
        },
        concurrency,
      );
      await refused(
        'DELETE',
        `${instancePath(held)}?${DELETE_QUERY}`,
        { headers: headers() },
        concurrency,
      );
      await refused(
        'PUT',
        bindingPath(held, randomUUID()),
        { headers: headers(), body: CLOUD_FOUNDRY.bindBody() },
        concurrency,
      );
      await refused(
        'DELETE',
        `${bindingPath(held, boundId)}?${DELETE_QUERY}`,
        { headers: headers() },
        concurrency,
      );
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    const released = await h.call('DELETE', `${instancePath(held)}?${DELETE_QUERY}`, {
      headers: headers(),
    });
    expect(released.status).toBe(200);
  });
});

describe('404 Not Found', () => {
  it('fetch, last_operation, update and bind of what does not exist', async () => {
    const missing = randomUUID();
    const cases: [RefusedRequest, string][] = [
      [
        [
          'GET',
          instancePath(missing),
          { headers: headers() },
          { status: 404, code: 'ERR_BROKER_INSTANCE_NOT_FOUND' },
        ],
        'fetch instance',
      ],
      [
        [
          'GET',
          `${instancePath(missing)}/last_operation`,
          { headers: headers() },
          { status: 404, code: 'ERR_BROKER_INSTANCE_NOT_FOUND' },
        ],
        'instance op',
      ],
      [
        [
          'PATCH',
          instancePath(missing),
          { headers: headers(), body: { service_id: SERVICE_ID } },
          { status: 404, code: 'ERR_BROKER_INSTANCE_NOT_FOUND' },
        ],
        'update',
      ],
      [
        [
          'PUT',
          bindingPath(missing, randomUUID()),
          { headers: headers(), body: CLOUD_FOUNDRY.bindBody() },
          { status: 404, code: 'ERR_BROKER_INSTANCE_NOT_FOUND' },
        ],
        'bind',
      ],
      [
        [
          'GET',
          bindingPath(existing, randomUUID()),
          { headers: headers() },
          { status: 404, code: 'ERR_BROKER_BINDING_NOT_FOUND' },
        ],
        'fetch binding',
      ],
      [
        [
          'GET',
          `${bindingPath(existing, randomUUID())}/last_operation`,
          { headers: headers() },
          { status: 404, code: 'ERR_BROKER_BINDING_NOT_FOUND' },
        ],
        'binding op',
      ],
    ];
    for (const [args] of cases) await refused(...args);
  });
});

describe('200 OK for update', () => {
  it('writes a new version of each named secret and leaves the others', async () => {
    const id = randomUUID();
    expect(
      (
        await h.call('PUT', instancePath(id), {
          headers: osbHeaders(KUBERNETES),
          body: { ...KUBERNETES.provisionBody(), parameters: { secrets: { a: '1', b: '2' } } },
        })
      ).status,
    ).toBe(201);
    const updated = await h.call('PATCH', `${instancePath(id)}?accepts_incomplete=true`, {
      headers: osbHeaders(KUBERNETES),
      body: {
        service_id: SERVICE_ID,
        plan_id: PLAN_ID,
        parameters: { secrets: { a: 'one', c: '3' } },
      },
    });
    expect(updated).toMatchObject({ status: 200, body: {} });
    const values = await h.secrets.getMany([
      parseSecretPath(`osb/${id}/a`),
      parseSecretPath(`osb/${id}/b`),
      parseSecretPath(`osb/${id}/c`),
    ]);
    expect([...values.values()].map((v) => [v.value, v.version])).toEqual([
      ['one', 2],
      ['2', 1],
      ['3', 1],
    ]);
    const before = await h.state();
    const noParameters = await h.call('PATCH', instancePath(id), {
      headers: osbHeaders(KUBERNETES),
      body: { service_id: SERVICE_ID },
    });
    expect(noParameters).toMatchObject({ status: 200, body: {} });
    expect(await h.state()).toEqual(before);
  });
});
