// Corpus: the OSB broker at /v2 — platform auth, API-version and originating-identity abuse,
// hostile ids and parameters — and broker-issued API keys used beyond their binding.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_VERSION } from '../../broker/index.js';
import { CLOUD_FOUNDRY, DELETE_QUERY, base64Json } from '../broker/helpers/osb-platforms.js';
import { refusalCorpus, type RefusalCase } from './refusal.js';
import { type RawRequest, type SecurityStack } from './security-stack.js';

const USER = 'platform-user';
const PASSWORD = 'corpus broker password 0123456789';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const INSTANCE = randomUUID();
const BINDING = randomUUID();

const instancePath = (id: string): string => `/v2/service_instances/${id}`;
const bindingPath = (id: string, bid: string): string =>
  `${instancePath(id)}/service_bindings/${bid}`;
const provisionBody = (secrets: Record<string, string> = { a: '1' }): Record<string, unknown> => ({
  ...CLOUD_FOUNDRY.provisionBody(),
  parameters: { secrets },
});

/** Headers a well-behaved Cloud Foundry sends, with `overrides` (undefined deletes one). */
function osb(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    authorization: BASIC,
    'x-broker-api-version': '2.17',
    'x-broker-api-originating-identity': `cloudfoundry ${base64Json(CLOUD_FOUNDRY.user)}`,
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** A provision of a new instance (which would change state if accepted) with `overrides`. */
const provision = (
  name: string,
  overrides: Record<string, string | undefined>,
  status: number,
  code: RefusalCase['code'],
  body: unknown = provisionBody(),
): RefusalCase => ({
  name,
  request: (): RawRequest => ({
    method: 'PUT',
    path: instancePath(randomUUID()),
    headers: osb(overrides),
    json: body,
  }),
  status,
  code,
  shape: 'osb',
});

const auth = (name: string, authorization: string | undefined): RefusalCase =>
  provision(`platform auth: ${name}`, { authorization }, 401, 'ERR_BROKER_UNAUTHORIZED');
const version = (name: string, value: string | undefined): RefusalCase =>
  provision(
    `API version: ${name}`,
    { 'x-broker-api-version': value },
    412,
    'ERR_BROKER_API_VERSION_UNSUPPORTED',
  );
const identity = (name: string, value: string): RefusalCase =>
  provision(
    `originating identity: ${name}`,
    { 'x-broker-api-originating-identity': value },
    400,
    'ERR_BROKER_ORIGINATING_IDENTITY_INVALID',
  );
const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

/** An OSB call other than a fresh provision. */
const call = (
  name: string,
  method: RawRequest['method'],
  path: string,
  body: unknown,
  status: number,
  code: RefusalCase['code'],
): RefusalCase => ({
  name,
  request: () => ({ method, path, headers: osb(), ...(body === undefined ? {} : { json: body }) }),
  status,
  code,
  shape: 'osb',
});

const OSB_CASES: RefusalCase[] = [
  auth('no credentials', undefined),
  auth('wrong password', basic(`${USER}:wrong-password-0123456789`)),
  auth('wrong username', basic(`admin:${PASSWORD}`)),
  auth('the password with one more character', basic(`${USER}:${PASSWORD}x`)),
  auth('a prefix of the password', basic(`${USER}:${PASSWORD.slice(0, 16)}`)),
  auth('an empty password', basic(`${USER}:`)),
  auth('no colon', basic(`${USER}${PASSWORD}`)),
  auth('not base64', 'Basic %%%not-base64%%%'),
  auth('the password as a Bearer token', `Bearer ${PASSWORD}`),
  version('missing', undefined),
  version('2.12 (below 2.13)', '2.12'),
  version('3.0', '3.0'),
  version('not a version', 'latest'),
  version('a negative minor', '2.-1'),
  identity('a platform and no value', 'cloudfoundry'),
  identity('a value that is not base64', 'cloudfoundry %%%'),
  identity(
    'base64 of something that is not JSON',
    `cloudfoundry ${Buffer.from('user_id=1').toString('base64')}`,
  ),
  identity('a JSON array', `cloudfoundry ${base64Json(['683ea748'])}`),
  identity('Cloud Foundry without user_id', `cloudfoundry ${base64Json({ user: 'x' })}`),
  identity('Kubernetes without username', `kubernetes ${base64Json({ uid: '1' })}`),
  identity(
    'another platform than the context names',
    `kubernetes ${base64Json({ username: 'duke' })}`,
  ),
  identity('9 KiB long', `cloudfoundry ${base64Json({ user_id: 'u'.repeat(7000) })}`),
  provision('an unknown plan', {}, 400, 'ERR_BROKER_PLAN_UNKNOWN', {
    ...provisionBody(),
    plan_id: randomUUID(),
  }),
  provision('an unknown service', {}, 400, 'ERR_BROKER_PLAN_UNKNOWN', {
    ...provisionBody(),
    service_id: randomUUID(),
  }),
  provision(
    'a maintenance_info version the plan does not have',
    {},
    422,
    'ERR_BROKER_MAINTENANCE_INFO_CONFLICT',
    {
      ...provisionBody(),
      maintenance_info: { version: `${MAINTENANCE_VERSION}-evil` },
    },
  ),
  provision(
    'a secret name climbing out of the scope',
    {},
    400,
    'ERR_BROKER_REQUEST_INVALID',
    provisionBody({ '../../payments/db-password': 'x' }),
  ),
  provision(
    'a secret name with a slash',
    {},
    400,
    'ERR_BROKER_REQUEST_INVALID',
    provisionBody({ 'a/b': 'x' }),
  ),
  provision('an unknown parameter', {}, 400, 'ERR_BROKER_REQUEST_INVALID', {
    ...provisionBody(),
    parameters: { secrets: {}, grant: '*' },
  }),
  provision(
    'a secret value over the limit',
    {},
    400,
    'ERR_BROKER_REQUEST_INVALID',
    provisionBody({ big: 'x'.repeat(65_537) }),
  ),
  {
    name: 'malformed JSON',
    request: () => ({
      method: 'PUT',
      path: instancePath(randomUUID()),
      headers: { ...osb(), 'content-type': 'application/json' },
      raw: '{"service_id": ',
    }),
    status: 400,
    code: 'ERR_BROKER_REQUEST_INVALID',
    shape: 'osb',
  },
  call(
    'an instance id with encoded traversal',
    'PUT',
    instancePath('..%2F..%2Fadmin'),
    provisionBody(),
    400,
    'ERR_BROKER_REQUEST_INVALID',
  ),
  call(
    'a provision conflicting with the existing instance',
    'PUT',
    instancePath(INSTANCE),
    provisionBody({ a: '2' }),
    409,
    'ERR_BROKER_INSTANCE_CONFLICT',
  ),
  call(
    'a bind to an instance that does not exist',
    'PUT',
    bindingPath(randomUUID(), randomUUID()),
    CLOUD_FOUNDRY.bindBody(),
    404,
    'ERR_BROKER_INSTANCE_NOT_FOUND',
  ),
  call(
    'a bind conflicting with the existing binding',
    'PUT',
    bindingPath(INSTANCE, BINDING),
    {
      ...CLOUD_FOUNDRY.bindBody(),
      parameters: { namespace: 'payments', serviceAccount: 'api' },
    },
    409,
    'ERR_BROKER_BINDING_CONFLICT',
  ),
  call(
    'a workload bind with a traversal namespace',
    'PUT',
    bindingPath(INSTANCE, randomUUID()),
    {
      ...CLOUD_FOUNDRY.bindBody(),
      parameters: { namespace: '../kube-system', serviceAccount: 'admin' },
    },
    400,
    'ERR_BROKER_REQUEST_INVALID',
  ),
  call(
    'an unbind of a binding that does not exist',
    'DELETE',
    `${bindingPath(INSTANCE, randomUUID())}?${DELETE_QUERY}`,
    undefined,
    410,
    'ERR_BROKER_BINDING_GONE',
  ),
  call(
    'a deprovision of an instance that does not exist',
    'DELETE',
    `${instancePath(randomUUID())}?${DELETE_QUERY}`,
    undefined,
    410,
    'ERR_BROKER_INSTANCE_GONE',
  ),
  call(
    'a deprovision without service_id and plan_id',
    'DELETE',
    instancePath(INSTANCE),
    undefined,
    400,
    'ERR_BROKER_REQUEST_INVALID',
  ),
];

/** Credentials a bind returned; filled in beforeAll. */
const bound = { apiKeyId: '', apiKey: '', token: '' };

const KEY_CASES: RefusalCase[] = [
  ...(['PUT /v1/policy', 'GET /v1/audit', 'POST /v1/ca/rotate'] as const).map(
    (route): RefusalCase => {
      const [method, path] = route.split(' ') as [RawRequest['method'], string];
      return {
        name: `a broker-issued API key's token on ${route}`,
        request: () => ({
          method,
          path,
          headers: {
            authorization: `Bearer ${bound.token}`,
            ...(method === 'PUT' ? { 'content-type': 'application/yaml' } : {}),
          },
          ...(method === 'PUT' ? { raw: 'workloads: []\n' } : {}),
        }),
        status: 403,
        code: 'ERR_AUTHN_NOT_ADMIN',
      };
    },
  ),
  {
    name: "a broker-issued API key's token reading outside its scope",
    request: () => ({
      method: 'GET',
      path: '/v1/secrets/payments/db-password',
      headers: { authorization: `Bearer ${bound.token}` },
    }),
    status: 403,
    code: 'ERR_POLICY_DENIED',
  },
  {
    name: "a broker-issued API key's token writing inside its (read-only) scope",
    request: () => ({
      method: 'PUT',
      path: `/v1/secrets/osb/${INSTANCE}/a`,
      headers: { authorization: `Bearer ${bound.token}` },
      json: { value: 'overwritten' },
    }),
    status: 403,
    code: 'ERR_POLICY_DENIED',
  },
  {
    name: 'a token of a broker API key whose binding was removed',
    request: async (fx) => {
      const binding = randomUUID();
      const credentials = await bind(fx, binding);
      const token = await login(fx, credentials);
      await unbind(fx, binding);
      return {
        method: 'GET',
        path: `/v1/secrets/osb/${INSTANCE}/a`,
        headers: { authorization: `Bearer ${token}` },
      };
    },
    status: 401,
    code: 'ERR_AUTHN_TOKEN_REVOKED',
  },
  {
    name: 'a login with a broker API key whose binding was removed',
    request: async (fx) => {
      const binding = randomUUID();
      const credentials = await bind(fx, binding);
      await unbind(fx, binding);
      return { method: 'POST', path: '/v1/authn/apikey', json: credentials };
    },
    status: 401,
    code: 'ERR_AUTHN_API_KEY_INVALID',
  },
];

/** Binds `binding` under the fixture instance; returns the API-key login body. */
async function bind(fx: SecurityStack, binding: string): Promise<{ id: string; api_key: string }> {
  const response = await fx.send({
    method: 'PUT',
    path: bindingPath(INSTANCE, binding),
    headers: osb(),
    json: CLOUD_FOUNDRY.bindBody(),
  });
  expect(response.status).toBe(201);
  const credentials = response.body['credentials'] as { identity: string; api_key: string };
  return { id: credentials.identity.replace(/^key:/, ''), api_key: credentials.api_key };
}

async function unbind(fx: SecurityStack, binding: string): Promise<void> {
  const response = await fx.send({
    method: 'DELETE',
    path: `${bindingPath(INSTANCE, binding)}?${DELETE_QUERY}`,
    headers: osb(),
  });
  expect(response.status).toBe(200);
}

async function login(
  fx: SecurityStack,
  credentials: { id: string; api_key: string },
): Promise<string> {
  const response = await fx.send({ method: 'POST', path: '/v1/authn/apikey', json: credentials });
  expect(response.status).toBe(200);
  return response.body.token as string;
}

describe('bad-input corpus: the OSB broker and the API keys it issues', () => {
  const corpus = refusalCorpus({
    env: { HALLMARK_BROKER_USERNAME: USER, HALLMARK_BROKER_PASSWORD: PASSWORD },
  });

  beforeAll(async () => {
    const created = await corpus.fx.send({
      method: 'PUT',
      path: instancePath(INSTANCE),
      headers: osb(),
      json: provisionBody(),
    });
    expect(created.status).toBe(201);
    const credentials = await bind(corpus.fx, BINDING);
    bound.apiKeyId = credentials.id;
    bound.apiKey = credentials.api_key;
    bound.token = await login(corpus.fx, credentials);
  });

  it('control: the catalog answers the well-behaved platform', async () => {
    const response = await corpus.fx.send({ method: 'GET', path: '/v2/catalog', headers: osb() });
    expect(response.status).toBe(200);
  });

  corpus.refuses(OSB_CASES);

  corpus.refuses(KEY_CASES);
});
