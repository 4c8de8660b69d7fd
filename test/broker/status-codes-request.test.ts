// OSB 2.17 status codes of requests refused before any resource is looked at: 401, 412, 400.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_ID, SERVICE_ID } from '../../broker/index.js';
import {
  BROKER_PASSWORD,
  BROKER_USER,
  startBrokerHarness,
  type BrokerHarness,
  type CallOptions,
  type Reply,
} from './helpers/broker-harness.js';
import { CLOUD_FOUNDRY } from './helpers/osb-platforms.js';
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
