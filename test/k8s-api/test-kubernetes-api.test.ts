// The test Kubernetes API over real HTTPS: authentication, TokenReview semantics, controls.
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startControlServer, startTestKubernetesApi } from './index.js';
import type { ControlServer, TestKubernetesApi } from './index.js';

let k8s: TestKubernetesApi;
let agent: Agent;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { token?: string | null; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? k8s.callerToken : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await request(`${k8s.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    dispatcher: agent,
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

async function review(token: string, audiences?: string[]): Promise<Record<string, unknown>> {
  const res = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: audiences ? { token, audiences } : { token },
    },
  });
  expect(res.status).toBe(201);
  return res.body.status as Record<string, unknown>;
}

beforeAll(async () => {
  k8s = await startTestKubernetesApi();
  agent = new Agent({ connect: { ca: k8s.caPem } });
  k8s.addPod({
    namespace: 'payments',
    name: 'api-0',
    serviceAccountName: 'api',
    nodeName: 'worker-1',
  });
});
beforeEach(() => k8s.clearRequests());
afterAll(async () => {
  await agent.close();
  await k8s.close();
});

describe('TLS', () => {
  it('serves a certificate for 127.0.0.1 signed by its own CA', () => {
    const ca = new X509Certificate(k8s.caPem);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.publicKey.asymmetricKeyType).toBe('ec');
  });
});

describe('authentication and authorization', () => {
  it('answers 401 with a Status to a missing or wrong bearer token', async () => {
    for (const token of [null, 'wrong']) {
      const res = await call('GET', '/api/v1/namespaces/payments/pods/api-0', { token });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
    expect(k8s.unexpectedRequests().map((r) => r.outcome)).toEqual([
      'unauthenticated',
      'unauthenticated',
    ]);
    k8s.clearRequests();
  });

  it('answers 403 with the RBAC message to a pod list', async () => {
    const res = await call('GET', '/api/v1/namespaces/payments/pods');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'pods is forbidden: User "system:serviceaccount:hallmark:hallmark" cannot list resource "pods" in API group "" in the namespace "payments"',
    });
    k8s.clearRequests();
  });

  it('does not expose the control endpoint to the Hallmark token', async () => {
    const res = await call('POST', '/_test/pods', {
      body: { namespace: 'x', name: 'y' },
    });
    expect(res.status).toBe(403);
    expect(k8s.getPod('x', 'y')).toBeUndefined();
    expect(k8s.unexpectedRequests()).toHaveLength(1);
    k8s.clearRequests();
  });

  it('serves an allowed pod GET, and 404 for a missing pod', async () => {
    const ok = await call('GET', '/api/v1/namespaces/payments/pods/api-0');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: 'Pod', spec: { serviceAccountName: 'api' } });
    const missing = await call('GET', '/api/v1/namespaces/payments/pods/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', code: 404 });
    expect(k8s.requests().map((r) => r.allowed)).toEqual([true, true]);
  });
});

describe('TokenReview', () => {
  it('authenticates a pod-bound token with the pod extras and the audience intersection', async () => {
    const uid = k8s.getPod('payments', 'api-0')!.metadata.uid;
    const token = await k8s.issueToken({
      namespace: 'payments',
      podName: 'api-0',
      audiences: ['hallmark', 'other'],
    });
    const status = await review(token, ['hallmark', 'third']);
    expect(status).toMatchObject({
      authenticated: true,
      audiences: ['hallmark'],
      user: {
        username: 'system:serviceaccount:payments:api',
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:payments',
          'system:authenticated',
        ],
        extra: {
          'authentication.kubernetes.io/pod-name': ['api-0'],
          'authentication.kubernetes.io/pod-uid': [uid],
          'authentication.kubernetes.io/node-name': ['worker-1'],
        },
      },
    });
    expect(typeof (status.user as { uid?: unknown }).uid).toBe('string');
  });

  it('issues tokens with the projected-token claims', async () => {
    const token = await k8s.issueToken({ namespace: 'payments', podName: 'api-0' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      sub: 'system:serviceaccount:payments:api',
      aud: ['hallmark'],
      'kubernetes.io': {
        namespace: 'payments',
        pod: { name: 'api-0', uid: k8s.getPod('payments', 'api-0')!.metadata.uid },
        serviceaccount: { name: 'api' },
      },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    expect(claims.nbf).toBe(claims.iat);
  });

  it('refuses a token whose audiences miss the requested ones', async () => {
    const token = await k8s.issueToken({ namespace: 'payments', podName: 'api-0' });
    const status = await review(token, ['vault']);
    expect(status.authenticated).toBeUndefined();
    expect(status.error).toContain('is invalid for the target audiences');
  });

  it('checks against the API server audience when none is requested', async () => {
    const token = await k8s.issueToken({ namespace: 'payments', podName: 'api-0' });
    expect((await review(token)).authenticated).toBeUndefined();
    const apiToken = await k8s.issueToken({
      namespace: 'payments',
      podName: 'api-0',
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
    expect((await review(apiToken)).authenticated).toBe(true);
  });

  it('refuses expired, forged and garbage tokens', async () => {
    const expired = await k8s.issueToken({
      namespace: 'payments',
      podName: 'api-0',
      expired: true,
    });
    expect((await review(expired, ['hallmark'])).error).toContain('expired');
    const forged = await k8s.issueToken({
      namespace: 'payments',
      podName: 'api-0',
      untrustedKey: true,
    });
    expect((await review(forged, ['hallmark'])).authenticated).toBeUndefined();
    expect(await review(k8s.garbageToken(), ['hallmark'])).toEqual({ user: {} });
  });

  it('authenticates an unbound token without pod extras', async () => {
    const token = await k8s.issueToken({ namespace: 'payments', serviceAccount: 'api' });
    const status = await review(token, ['hallmark']);
    expect(status.authenticated).toBe(true);
    expect(Object.keys((status.user as { extra: object }).extra)).not.toContain(
      'authentication.kubernetes.io/pod-name',
    );
  });

  it('invalidates the token of a deleted or recreated pod, not of a terminating one', async () => {
    k8s.addPod({ namespace: 'web', name: 'web-0', serviceAccountName: 'web' });
    k8s.addPod({ namespace: 'web', name: 'web-1', serviceAccountName: 'web' });
    k8s.addPod({ namespace: 'web', name: 'web-2', serviceAccountName: 'web' });
    const t0 = await k8s.issueToken({ namespace: 'web', podName: 'web-0' });
    const t1 = await k8s.issueToken({ namespace: 'web', podName: 'web-1' });
    const t2 = await k8s.issueToken({ namespace: 'web', podName: 'web-2' });
    k8s.deletePod('web', 'web-0');
    k8s.recreatePod('web', 'web-1');
    k8s.deletePod('web', 'web-2', { terminating: true, gracePeriodSeconds: 30 });
    expect((await review(t0, ['hallmark'])).error).toContain('invalidated');
    expect((await review(t1, ['hallmark'])).error).toContain('does not match');
    expect((await review(t2, ['hallmark'])).authenticated).toBe(true);
  });

  it('answers 400 to a review without a token', async () => {
    const res = await call('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { spec: {} },
    });
    expect(res.status).toBe(400);
  });
});

describe('controls', () => {
  afterEach(() => k8s.setDown(false));

  it('injects failures for the next requests only', async () => {
    k8s.failNext(500, 2);
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(500);
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(500);
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(200);
  });

  it('answers 503 while down in unavailable mode', async () => {
    await k8s.setDown(true, 'unavailable');
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(503);
    await k8s.setDown(false);
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(200);
  });

  it('refuses connections while down, on the same port afterwards', async () => {
    const port = k8s.port;
    await k8s.setDown(true);
    // A fresh client: a pooled connection would first see the server drop it, then refusal.
    const fresh = new Agent({ connect: { ca: k8s.caPem } });
    const err = await request(`${k8s.url}/api/v1/namespaces/payments/pods/api-0`, {
      dispatcher: fresh,
    }).catch((e: unknown) => e as { code?: string });
    await fresh.close();
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    await k8s.setDown(false);
    expect(k8s.port).toBe(port);
    expect((await call('GET', '/api/v1/namespaces/payments/pods/api-0')).status).toBe(200);
  });
});

describe('control endpoint', () => {
  let control: ControlServer;
  beforeAll(async () => {
    control = await startControlServer(k8s);
  });
  afterAll(() => control.close());

  async function ctl(method: string, path: string, body?: unknown, token = control.token) {
    const res = await request(`${control.url}${path}`, {
      method: method as 'GET',
      headers: { authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  }

  it('adds and deletes pods and mints tokens with the control token only', async () => {
    expect(
      (await ctl('POST', '/pods', { namespace: 'c', name: 'p' }, k8s.callerToken)).status,
    ).toBe(401);
    const created = await ctl('POST', '/pods', {
      namespace: 'c',
      name: 'p',
      serviceAccountName: 's',
    });
    expect(created.status).toBe(201);
    const minted = await ctl('POST', '/tokens', { namespace: 'c', podName: 'p' });
    expect(minted.status).toBe(201);
    expect((await review(minted.body.token as string, ['hallmark'])).authenticated).toBe(true);
    expect((await ctl('DELETE', '/pods/c/p?terminating=true')).status).toBe(200);
    expect(k8s.getPod('c', 'p')?.metadata.deletionTimestamp).toBeDefined();
    expect((await ctl('DELETE', '/pods/c/p')).status).toBe(200);
    expect(k8s.getPod('c', 'p')).toBeUndefined();
    expect((await ctl('GET', '/requests')).body).toMatchObject({ unexpected: [] });
  });
});
