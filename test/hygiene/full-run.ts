// The story the log-hygiene test logs: every credential-bearing flow, and refusals carrying them.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { MAINTENANCE_VERSION } from '../../broker/index.js';
import { generateApiKey } from '../../src/authn/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startSidecar, type SidecarHandle } from '../../sidecar/index.js';
import { CLOUD_FOUNDRY, DELETE_QUERY, base64Json } from '../broker/helpers/osb-platforms.js';
import { waitFor } from '../sidecar/wait-for.js';
import type { CredentialList } from './credential-list.js';
import type { MemoryLog } from './log-capture.js';
import type { LoggedRequest, LoggedStack } from './logged-stack.js';

const NAMESPACE = 'payments';
const POD = 'api-7d4f9';
const POLICY = `
workloads:
  - namespace: ${NAMESPACE}
    serviceAccount: api
grants:
  - to: spiffe://hallmark.local/ns/payments/sa/api
    read: [payments/*]
`;

/** Broker credentials the server is started with. */
export const BROKER_USER = 'cf-platform';
export const BROKER_PASSWORD = `broker-pw-${randomBytes(12).toString('hex')}`;

/** What the story needs and leaves behind. */
export interface RunContext {
  readonly stack: LoggedStack;
  readonly credentials: CredentialList;
  /** A temporary directory for the projected token and the sidecar's files. */
  readonly dir: string;
  readonly sidecarLog: MemoryLog;
}

/** Sends `request` and expects `status`; returns the body. */
async function expectStatus(
  ctx: RunContext,
  status: number,
  request: LoggedRequest,
): Promise<Record<string, unknown>> {
  const { status: got, body } = await ctx.stack.send(request);
  expect(got, `${request.method} ${request.path}: ${JSON.stringify(body)}`).toBe(status);
  return body;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };
const osb = (password = BROKER_PASSWORD): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${BROKER_USER}:${password}`).toString('base64')}`,
  'x-broker-api-version': '2.17',
  'x-broker-api-originating-identity': `cloudfoundry ${base64Json(CLOUD_FOUNDRY.user)}`,
});

/**
 * Runs the whole story: admin login, policy, secret writes (one value full of characters
 * JSON and URLs escape), the sidecar's SVID and token, batch and single reads, mTLS logins, a
 * JWT-SVID, a broker provision/bind/login/unbind, and refusals that each carry a credential
 * or a secret value. Returns the running sidecar (stopped by the caller).
 */
export async function runFullStory(ctx: RunContext): Promise<SidecarHandle> {
  const { stack, credentials } = ctx;
  const secrets: Record<string, string> = {
    'payments/db-password': `db-${randomBytes(16).toString('hex')}`,
    'payments/api-token': `tok "quoted" \\ back\nslash ü € ${randomBytes(16).toString('hex')}`,
  };
  for (const [name, value] of Object.entries(secrets)) credentials.add(`secret ${name}`, value);
  const call = (status: number, request: LoggedRequest) => expectStatus(ctx, status, request);

  // Admin: log in with the API key, load policy, write secrets.
  const adminToken = credentials.add(
    'admin access token',
    (
      await call(200, {
        method: 'POST',
        path: '/v1/authn/apikey',
        json: { id: 'admin', api_key: stack.adminKey },
      })
    ).token as string,
  ) as string;
  const yaml = { ...bearer(adminToken), 'content-type': 'application/yaml' };
  await call(200, { method: 'PUT', path: '/v1/policy', headers: yaml, raw: POLICY });
  for (const [name, value] of Object.entries(secrets)) {
    await call(200, {
      method: 'PUT',
      path: `/v1/secrets/${name}`,
      headers: bearer(adminToken),
      json: { value },
    });
  }

  // The pod, its projected token where the kubelet puts it, and the sidecar.
  stack.k8s.addPod({ namespace: NAMESPACE, name: POD, serviceAccountName: 'api' });
  const tokenPath = path.join(ctx.dir, 'hallmark-token');
  const projected = await stack.k8s.issueToken({ namespace: NAMESPACE, podName: POD });
  await writeFile(tokenPath, credentials.add('projected token (sidecar)', projected));
  const outputDir = path.join(ctx.dir, 'out');
  // As `hallmark sidecar` logs: pino JSON lines and no redaction of its own; here at trace.
  const sidecar = await startSidecar(
    {
      serverUrl: stack.server.url,
      serverBundlePath: stack.server.bundleFile,
      tokenPath,
      outputDir,
      healthListen: { host: '127.0.0.1', port: 0 },
      keyType: 'ec-p256',
      onceTimeoutMs: 30_000,
      once: false,
    },
    { log: pino({ name: 'hallmark-sidecar', level: 'trace' }, ctx.sidecarLog) },
  );
  const file = (name: string): Promise<string> => readFile(path.join(outputDir, name), 'utf8');
  await waitFor('the sidecar files', () =>
    Promise.all([file('access-token'), file('svid-key.pem')]).then(
      (texts) => texts.every((t) => t.length > 0),
      () => false,
    ),
  );
  const sidecarKey = await file('svid-key.pem');
  credentials.addPrivateKey('sidecar SVID key', sidecarKey);
  const sidecarToken = credentials.add(
    'sidecar access token',
    (await file('access-token')).trim(),
  ) as string;

  // The app: one batch with the sidecar's token; a login with the sidecar's SVID.
  const paths = Object.keys(secrets);
  await call(200, {
    method: 'POST',
    path: '/v1/secrets/batch',
    headers: bearer(sidecarToken),
    json: { paths },
  });
  const sidecarMtls = stack.agent({ cert: await file('svid.pem'), key: sidecarKey });
  const relogin = await call(200, {
    method: 'POST',
    path: '/v1/authn/login',
    dispatcher: sidecarMtls,
  });
  credentials.add('access token from the sidecar SVID', relogin.token as string);

  // A pod SVID by hand, an mTLS login, a single read and a JWT-SVID.
  const keyPair = generateKeyPair('ec-p256');
  const keyPem = keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  credentials.addPrivateKey('workload key', keyPem);
  const projected2 = credentials.add(
    'projected token (by hand)',
    await stack.k8s.issueToken({ namespace: NAMESPACE, podName: POD }),
  ) as string;
  const csr = buildCsr(keyPair);
  const svid = await call(200, {
    method: 'POST',
    path: '/v1/svid/x509',
    headers: bearer(projected2),
    json: { csr },
  });
  const mtls = stack.agent({ cert: svid.svid as string, key: keyPem });
  const login = await call(200, { method: 'POST', path: '/v1/authn/login', dispatcher: mtls });
  const workloadToken = credentials.add('workload access token', login.token as string) as string;
  await call(200, {
    method: 'GET',
    path: '/v1/secrets/payments/db-password',
    headers: bearer(workloadToken),
  });
  const jwt = await call(200, {
    method: 'POST',
    path: '/v1/svid/jwt',
    dispatcher: mtls,
    json: { audience: ['db'] },
  });
  credentials.add('JWT-SVID', jwt.token as string);

  // The broker: provision with a secret, bind (an API key), the app logs in and reads.
  const instance = randomUUID();
  const binding = randomUUID();
  const instancePath = `/v2/service_instances/${instance}`;
  const bindingPath = `${instancePath}/service_bindings/${binding}`;
  const dsn = credentials.add(
    'broker-provisioned secret',
    `osb-${randomBytes(16).toString('hex')}`,
  );
  const provision = { ...CLOUD_FOUNDRY.provisionBody(), parameters: { secrets: { dsn } } };
  await call(201, { method: 'PUT', path: instancePath, headers: osb(), json: provision });
  const bound = await call(201, {
    method: 'PUT',
    path: bindingPath,
    headers: osb(),
    json: CLOUD_FOUNDRY.bindBody(),
  });
  const { identity, api_key: brokerKey } = bound.credentials as {
    identity: string;
    api_key: string;
  };
  credentials.add('broker-issued API key', brokerKey);
  const brokerLogin = { id: identity.replace(/^key:/, ''), api_key: brokerKey };
  const appToken = credentials.add(
    'broker app access token',
    (await call(200, { method: 'POST', path: '/v1/authn/apikey', json: brokerLogin }))
      .token as string,
  ) as string;
  await call(200, {
    method: 'GET',
    path: `/v1/secrets/osb/${instance}/dsn`,
    headers: bearer(appToken),
  });

  // Refusals, each carrying a credential or a secret value somewhere in the request.
  const value = secrets['payments/db-password']!;
  const wrongKey = credentials.add('a wrong API key tried', generateApiKey()) as string;
  const wrongPassword = credentials.add(
    'a wrong broker password tried',
    `${BROKER_PASSWORD}-typo`,
  ) as string;
  const expired = credentials.add(
    'expired projected token',
    await stack.k8s.issueToken({ namespace: NAMESPACE, podName: POD, expired: true }),
  ) as string;
  const basicAdmin = `Basic ${Buffer.from(`admin:${stack.adminKey}`).toString('base64')}`;
  const refusals: [number, LoggedRequest][] = [
    [401, { method: 'POST', path: '/v1/authn/apikey', json: { id: 'admin', api_key: wrongKey } }],
    [
      400,
      {
        method: 'POST',
        path: '/v1/authn/apikey',
        headers: json,
        raw: `{"id":"admin","api_key":"${stack.adminKey}" "x":1}`,
      },
    ],
    [
      400,
      {
        method: 'POST',
        path: '/v1/authn/apikey',
        headers: json,
        raw: `{"id":"admin","api_key":${stack.adminKey}}`,
      },
    ],
    [
      415,
      {
        method: 'POST',
        path: '/v1/authn/apikey',
        headers: { 'content-type': 'text/plain' },
        raw: `admin:${stack.adminKey}`,
      },
    ],
    [
      413,
      {
        method: 'PUT',
        path: '/v1/secrets/payments/big',
        headers: bearer(adminToken),
        json: { value: `${value}${'x'.repeat(70_000)}` },
      },
    ],
    [
      400,
      {
        method: 'PUT',
        path: '/v1/secrets/payments/broken',
        headers: { ...bearer(adminToken), ...json },
        raw: `{"value":"${value}" oops}`,
      },
    ],
    [
      400,
      {
        method: 'PUT',
        path: '/v1/secrets/payments/unquoted',
        headers: { ...bearer(adminToken), ...json },
        raw: `{"value": ${value}}`,
      },
    ],
    [
      400,
      {
        method: 'PUT',
        path: '/v1/secrets/payments/extra',
        headers: bearer(adminToken),
        json: { value, note: secrets['payments/api-token'] },
      },
    ],
    [403, { method: 'GET', path: '/v1/secrets/billing/x', headers: bearer(workloadToken) }],
    [
      403,
      {
        method: 'PUT',
        path: '/v1/policy',
        headers: { ...bearer(workloadToken), 'content-type': 'application/yaml' },
        raw: POLICY,
      },
    ],
    [
      401,
      { method: 'GET', path: '/v1/audit', headers: bearer(`${adminToken.slice(0, -6)}AAAAAA`) },
    ],
    [401, { method: 'GET', path: '/v1/audit', headers: { authorization: basicAdmin } }],
    [403, { method: 'POST', path: '/v1/svid/x509', headers: bearer(expired), json: { csr } }],
    [
      400,
      { method: 'POST', path: '/v1/svid/x509', headers: bearer(projected2), json: { csr: keyPem } },
    ],
    [401, { method: 'GET', path: '/v2/catalog', headers: osb(wrongPassword) }],
    [
      400,
      {
        method: 'PUT',
        path: `/v2/service_instances/${randomUUID()}`,
        headers: osb(),
        json: { ...provision, parameters: { secrets: { '../escape': dsn } } },
      },
    ],
    [
      422,
      {
        method: 'PUT',
        path: `/v2/service_instances/${randomUUID()}`,
        headers: osb(),
        json: { ...provision, maintenance_info: { version: `${MAINTENANCE_VERSION}-x` } },
      },
    ],
    [200, { method: 'DELETE', path: `${bindingPath}?${DELETE_QUERY}`, headers: osb() }],
    [401, { method: 'GET', path: `/v1/secrets/osb/${instance}/dsn`, headers: bearer(appToken) }],
  ];
  for (const [status, request] of refusals) await call(status, request);
  return sidecar;
}
