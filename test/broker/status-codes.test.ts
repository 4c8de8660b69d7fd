// The OSB 2.17 status-code table, one test per row: every refusal leaves the database as it was.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_LOCK_CLASSES, PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import {
  BROKER_PASSWORD,
  BROKER_USER,
  startBrokerHarness,
  type BrokerHarness,
  type CallOptions,
  type Reply,
} from './helpers/broker-harness.js';
import { CLOUD_FOUNDRY, DELETE_QUERY, KUBERNETES, osbHeaders } from './helpers/osb-platforms.js';

let h: BrokerHarness;
const existing = randomUUID();
const existingBinding = randomUUID();
const instancePath = (id: string): string => `/v2/service_instances/${id}`;
const bindingPath = (id: string, bid: string): string =>
  `${instancePath(id)}/service_bindings/${bid}`;
const provisionBody = (secrets: Record<string, string> = { a: '1' }): Record<string, unknown> => ({
  ...CLOUD_FOUNDRY.provisionBody(),
  parameters: { secrets },
});
const headers = (): Record<string, string> => osbHeaders(CLOUD_FOUNDRY);

beforeAll(async () => {
  h = await startBrokerHarness();
  const created = await h.call('PUT', instancePath(existing), {
    headers: headers(),
    body: provisionBody(),
  });
  expect(created.status).toBe(201);
  const bound = await h.call('PUT', bindingPath(existing, existingBinding), {
    headers: headers(),
    body: CLOUD_FOUNDRY.bindBody(),
  });
  expect(bound.status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

/**
 * Sends a request that must be refused and checks the refusal: status, OSB error body, no
 * change to any broker, secret or key row, and one `denied` audit row with the code.
 */
async function refused(
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: CallOptions,
  expected: { status: number; code: string; error?: string },
): Promise<Reply> {
  const before = await h.state();
  const auditBefore = (await h.auditRows()).length;
  const reply = await h.call(method, path, options);
  expect(reply.status).toBe(expected.status);
  expect(typeof reply.body['description']).toBe('string');
  expect((reply.body['description'] as string).length).toBeGreaterThan(0);
  expect(reply.body['error']).toBe(expected.error);
  expect(Object.keys(reply.body).every((key) => key === 'error' || key === 'description')).toBe(
    true,
  );
  expect(await h.state()).toEqual(before);
  const added = (await h.auditRows()).slice(auditBefore);
  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ outcome: 'denied', reason: expected.code });
  return reply;
}

describe('401 Unauthorized (OSB 2.17 "Platform to Service Broker Authentication")', () => {
  const cases: [string, CallOptions['auth'] | 'raw'][] = [
    ['no credentials', null],
    ['wrong password', { user: BROKER_USER, password: `${BROKER_PASSWORD}x` }],
    ['wrong username', { user: 'someone', password: BROKER_PASSWORD }],
    ['empty password', { user: BROKER_USER, password: '' }],
    ['not basic', 'raw'],
  ];
  for (const [name, auth] of cases) {
    it(`${name}: 401 with a Basic challenge, nothing provisioned`, async () => {
      const options: CallOptions =
        auth === 'raw'
          ? {
              auth: null,
              headers: { ...headers(), authorization: `Bearer ${BROKER_PASSWORD}` },
              body: provisionBody(),
            }
          : { auth, headers: headers(), body: provisionBody() };
      const reply = await refused('PUT', instancePath(randomUUID()), options, {
        status: 401,
        code: 'ERR_BROKER_UNAUTHORIZED',
      });
      expect(reply.headers['www-authenticate']).toMatch(/^Basic realm=/);
    });
  }

  it('also guards the catalog and unknown /v2 paths', async () => {
    expect((await h.call('GET', '/v2/catalog', { auth: null, headers: headers() })).status).toBe(
      401,
    );
    expect(
      (await h.call('GET', '/v2/nothing-here', { auth: null, headers: headers() })).status,
    ).toBe(401);
    expect((await h.call('GET', '/v2/nothing-here', { headers: headers() })).status).toBe(404);
  });
});

describe('412 Precondition Failed (OSB 2.17 "API Version Header")', () => {
  for (const version of [undefined, '2.12', '2.0', '1.14', '3.0', 'latest', '2.13.1', '']) {
    it(`X-Broker-API-Version ${JSON.stringify(version)}: 412, nothing provisioned`, async () => {
      const sent = headers();
      if (version === undefined) delete sent['x-broker-api-version'];
      else sent['x-broker-api-version'] = version;
      const reply = await refused(
        'PUT',
        instancePath(randomUUID()),
        { headers: sent, body: provisionBody() },
        { status: 412, code: 'ERR_BROKER_API_VERSION_UNSUPPORTED' },
      );
      expect(reply.body['description']).toContain('2.13');
    });
  }

  it('2.13 through 2.17 (and later 2.x minors) are served', async () => {
    for (const version of ['2.13', '2.14', '2.15', '2.16', '2.17', '2.18']) {
      const reply = await h.call('GET', '/v2/catalog', {
        headers: { 'x-broker-api-version': version },
      });
      expect(reply.status).toBe(200);
    }
  });
});

describe('400 Bad Request: malformed or missing mandatory data', () => {
  const { service_id: _s, ...withoutService } = provisionBody();
  const { plan_id: _p, ...withoutPlan } = provisionBody();
  const { organization_guid: _o, context: _c, ...withoutOrgOrContext } = provisionBody();
  const bodies: [string, CallOptions, string][] = [
    [
      'unparseable JSON',
      { raw: '{"service_id": ', headers: { 'content-type': 'application/json' } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    ['a JSON array', { body: [provisionBody()] }, 'ERR_BROKER_REQUEST_INVALID'],
    ['no body', {}, 'ERR_BROKER_REQUEST_INVALID'],
    [
      'text/plain that is not JSON',
      { raw: 'service_id=x', headers: { 'content-type': 'text/plain' } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'prototype poisoning',
      {
        raw: `{"service_id":"${SERVICE_ID}","plan_id":"${PLAN_ID}","__proto__":{"x":1}}`,
        headers: { 'content-type': 'application/json' },
      },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    ['missing service_id', { body: withoutService }, 'ERR_BROKER_REQUEST_INVALID'],
    ['missing plan_id', { body: withoutPlan }, 'ERR_BROKER_REQUEST_INVALID'],
    [
      'empty service_id',
      { body: { ...provisionBody(), service_id: '' } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'unknown service_id',
      { body: { ...provisionBody(), service_id: randomUUID() } },
      'ERR_BROKER_PLAN_UNKNOWN',
    ],
    [
      'unknown plan_id',
      { body: { ...provisionBody(), plan_id: randomUUID() } },
      'ERR_BROKER_PLAN_UNKNOWN',
    ],
    [
      'no organization_guid and no context',
      { body: withoutOrgOrContext },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'parameters not an object',
      { body: { ...provisionBody(), parameters: 'secrets' } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'an unknown parameter',
      { body: { ...provisionBody(), parameters: { secret: { a: 'b' } } } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'a secret name that is not a path segment',
      { body: provisionBody({ '../escape': 'x' }) },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    ['a dot secret name', { body: provisionBody({ '..': 'x' }) }, 'ERR_BROKER_REQUEST_INVALID'],
    [
      'a secret value that is not a string',
      { body: { ...provisionBody(), parameters: { secrets: { a: 1 } } } },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'a secret value over 64 KiB',
      { body: provisionBody({ ok: 'fine', big: 'x'.repeat(65_537) }) },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'a lone surrogate in a value',
      {
        raw: `{"service_id":"${SERVICE_ID}","plan_id":"${PLAN_ID}","context":{"platform":"cloudfoundry"},"parameters":{"secrets":{"a":"\\ud800"}}}`,
        headers: { 'content-type': 'application/json' },
      },
      'ERR_BROKER_REQUEST_INVALID',
    ],
    [
      'context.platform other than the originating identity',
      { body: { ...provisionBody(), context: { platform: 'kubernetes' } } },
      'ERR_BROKER_ORIGINATING_IDENTITY_INVALID',
    ],
  ];
  for (const [name, options, code] of bodies) {
    it(`provision with ${name}: 400`, async () => {
      await refused(
        'PUT',
        instancePath(randomUUID()),
        { ...options, headers: { ...headers(), ...options.headers } },
        { status: 400, code },
      );
    });
  }

  // ("..", "%2E%2E" are normalised away by the client's URL parser; the unit tests cover them.)
  for (const badId of [
    '-leading-dash',
    '.hidden',
    'a%2Fb',
    `${'x'.repeat(97)}%21`,
    'white%20space',
  ]) {
    it(`instance id ${JSON.stringify(badId)}: 400`, async () => {
      await refused(
        'PUT',
        instancePath(badId),
        { headers: headers(), body: provisionBody() },
        {
          status: 400,
          code: 'ERR_BROKER_REQUEST_INVALID',
        },
      );
    });
  }

  it('an id longer than 100 characters never reaches a route: 414 from the router', async () => {
    const before = await h.state();
    const reply = await h.call('PUT', instancePath('x'.repeat(101)), {
      headers: headers(),
      body: provisionBody(),
    });
    expect(reply.status).toBe(414);
    expect(await h.state()).toEqual(before);
  });

  it('deprovision without service_id or plan_id: 400', async () => {
    for (const query of [`plan_id=${PLAN_ID}`, `service_id=${SERVICE_ID}`, '']) {
      await refused(
        'DELETE',
        `${instancePath(existing)}?${query}`,
        { headers: headers() },
        {
          status: 400,
          code: 'ERR_BROKER_REQUEST_INVALID',
        },
      );
    }
  });

  it("deprovision with ids that are not the instance's: 400", async () => {
    await refused(
      'DELETE',
      `${instancePath(existing)}?service_id=${SERVICE_ID}&plan_id=${randomUUID()}`,
      { headers: headers() },
      {
        status: 400,
        code: 'ERR_BROKER_PLAN_UNKNOWN',
      },
    );
  });

  it('unbind without plan_id: 400', async () => {
    await refused(
      'DELETE',
      `${bindingPath(existing, existingBinding)}?service_id=${SERVICE_ID}`,
      { headers: headers() },
      {
        status: 400,
        code: 'ERR_BROKER_REQUEST_INVALID',
      },
    );
  });

  const bindCases: [string, Record<string, unknown>][] = [
    ['namespace without serviceAccount', { parameters: { namespace: 'payments' } }],
    ['an invalid namespace', { parameters: { namespace: 'Payments!', serviceAccount: 'api' } }],
    ['an unknown binding parameter', { parameters: { role: 'admin' } }],
    [
      'a rotation request (binding_rotatable is false)',
      { predecessor_binding_id: existingBinding },
    ],
    ['a missing plan_id', { plan_id: undefined }],
  ];
  for (const [name, extra] of bindCases) {
    it(`bind with ${name}: 400`, async () => {
      await refused(
        'PUT',
        bindingPath(existing, randomUUID()),
        { headers: headers(), body: { ...CLOUD_FOUNDRY.bindBody(), ...extra } },
        {
          status: 400,
          code: 'ERR_BROKER_REQUEST_INVALID',
        },
      );
    });
  }

  it('update without service_id: 400', async () => {
    await refused(
      'PATCH',
      instancePath(existing),
      { headers: headers(), body: { parameters: { secrets: { a: '2' } } } },
      {
        status: 400,
        code: 'ERR_BROKER_REQUEST_INVALID',
      },
    );
  });
});

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
    const cases: [Parameters<typeof refused>, string][] = [
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
    const values = await h.secrets.getMany([`osb/${id}/a`, `osb/${id}/b`, `osb/${id}/c`]);
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
