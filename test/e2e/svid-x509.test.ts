import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
  - namespace: shop
    serviceAccount: web
    labels: { app: web }
    spiffeId: "spiffe://hallmark.local/shop/{label:app}"
    allowForeignPath: true
    ttl: 10m
`;

describe('POST /v1/svid/x509 end to end', () => {
  let stack: HallmarkStack;
  const csr = buildCsr(generateKeyPair('ec-p256'));

  beforeAll(async () => {
    // Like kube-apiserver, the test API caches successful TokenReviews, so a pod deleted or
    // recreated since its token was last reviewed is caught by Hallmark's own Pod GET.
    stack = await startStack({ policy: POLICY, k8s: { tokenReviewCacheMs: 60_000 } });
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    stack.k8s.addPod({
      namespace: 'shop',
      name: 'web-1',
      serviceAccountName: 'web',
      labels: { app: 'web' },
    });
    stack.k8s.addPod({ namespace: 'payments', name: 'batch-1', serviceAccountName: 'batch' });
  });
  afterAll(() => stack.close());

  async function issue(token: string | undefined, body: unknown = { csr }) {
    return stack.call('POST', '/v1/svid/x509', {
      body,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  }

  async function count(sql: string): Promise<number> {
    return Number((await stack.server.db.query<{ n: string }>(sql)).rows[0]?.n);
  }

  it('issues an SVID after exactly one TokenReview and one Pod GET', async () => {
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    stack.k8s.clearRequests();
    const { status, body } = await issue(token);
    expect(status).toBe(200);
    expect(body.spiffe_id).toBe('spiffe://hallmark.local/ns/payments/sa/api');
    const leaf = new X509Certificate(body.svid as string);
    expect(leaf.subjectAltName).toBe('URI:spiffe://hallmark.local/ns/payments/sa/api');
    expect(new Date(body.expires_at as string).getTime()).toBe(new Date(leaf.validTo).getTime());
    const calls = stack.k8s
      .requests()
      .map((r) => `${r.verb} ${r.apiGroup}/${r.resource} ${r.namespace}/${r.name}`);
    expect(calls).toEqual([
      'create authentication.k8s.io/tokenreviews /',
      'get /pods payments/api-1',
    ]);
    expect(
      await count(
        `SELECT count(*) AS n FROM issued_certificates WHERE serial = '${leaf.serialNumber.toLowerCase()}'`,
      ),
    ).toBe(1);
    await stack.server.audit.settle();
    expect(
      await count(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'svid.x509.issued' AND actor = 'spiffe://hallmark.local/ns/payments/sa/api'",
      ),
    ).toBe(1);

    // The SVID verifies against the bundle the response carried, with OpenSSL's strict checks.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-svid-'));
    try {
      await writeFile(path.join(dir, 'bundle.pem'), body.bundle as string);
      await writeFile(path.join(dir, 'svid.pem'), body.svid as string);
      const out = execFileSync('openssl', [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        path.join(dir, 'bundle.pem'),
        path.join(dir, 'svid.pem'),
      ]);
      expect(out.toString()).toContain('OK');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders the registration template and TTL', async () => {
    const token = await stack.k8s.issueToken({ namespace: 'shop', podName: 'web-1' });
    const { status, body } = await issue(token);
    expect(status).toBe(200);
    expect(body.spiffe_id).toBe('spiffe://hallmark.local/shop/web');
    const leaf = new X509Certificate(body.svid as string);
    const lifetime = new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime();
    expect(lifetime).toBe((10 * 60 + 10) * 1000); // TTL + 10 s backdating
  });

  const refusals: [string, () => Promise<string | undefined>, number, string][] = [
    ['no token', async () => undefined, 401, 'ERR_ATTEST_TOKEN_MISSING'],
    ['malformed token', async () => 'not a token!', 403, 'ERR_ATTEST_TOKEN_INVALID'],
    ['garbage JWT', async () => stack.k8s.garbageToken(), 403, 'ERR_ATTEST_TOKEN_INVALID'],
    [
      'forged token',
      async () =>
        stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1', untrustedKey: true }),
      403,
      'ERR_ATTEST_TOKEN_INVALID',
    ],
    [
      'another audience',
      async () =>
        stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1', audiences: ['vault'] }),
      403,
      'ERR_ATTEST_AUDIENCE_MISMATCH',
    ],
    [
      'expired token',
      async () => stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1', expired: true }),
      403,
      'ERR_ATTEST_TOKEN_INVALID',
    ],
    [
      'token not bound to a pod',
      async () => stack.k8s.issueToken({ namespace: 'payments', serviceAccount: 'api' }),
      403,
      'ERR_ATTEST_TOKEN_NOT_POD_BOUND',
    ],
    [
      'no registration',
      async () => stack.k8s.issueToken({ namespace: 'payments', podName: 'batch-1' }),
      403,
      'ERR_POLICY_NO_REGISTRATION',
    ],
  ];

  it.each(refusals)(
    'refuses %s with its code, an audit row and no certificate',
    async (_name, token, status, code) => {
      const before = await count('SELECT count(*) AS n FROM issued_certificates');
      const audited = await count(`SELECT count(*) AS n FROM audit_log WHERE reason = '${code}'`);
      const response = await issue(await token());
      expect(response.status).toBe(status);
      expect(response.body.error?.code).toBe(code);
      expect(await count('SELECT count(*) AS n FROM issued_certificates')).toBe(before);
      expect(
        await count(
          `SELECT count(*) AS n FROM audit_log WHERE reason = '${code}' AND outcome = 'denied'`,
        ),
      ).toBe(audited + 1);
    },
  );

  it.each([
    [
      'recreated with the same name',
      (n: string) => void stack.k8s.recreatePod('payments', n),
      'ERR_ATTEST_POD_UID_MISMATCH',
    ],
    [
      'terminating',
      (n: string) => stack.k8s.deletePod('payments', n, { terminating: true }),
      'ERR_ATTEST_POD_TERMINATING',
    ],
    [
      'Succeeded',
      (n: string) => void stack.k8s.setPhase('payments', n, 'Succeeded'),
      'ERR_ATTEST_POD_NOT_RUNNING',
    ],
    [
      'Failed',
      (n: string) => void stack.k8s.setPhase('payments', n, 'Failed'),
      'ERR_ATTEST_POD_NOT_RUNNING',
    ],
    ['deleted', (n: string) => stack.k8s.deletePod('payments', n), 'ERR_ATTEST_POD_NOT_FOUND'],
  ])('refuses a token whose pod was %s since its last review', async (_name, change, code) => {
    const name = `p-${Math.random().toString(36).slice(2, 8)}`;
    stack.k8s.addPod({ namespace: 'payments', name, serviceAccountName: 'api' });
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: name });
    expect((await issue(token)).status).toBe(200);
    change(name);
    const response = await issue(token);
    expect(response.status).toBe(403);
    expect(response.body.error?.code).toBe(code);
  });

  it('refuses a token whose service account does not match the pod', async () => {
    const token = await stack.k8s.issueToken({
      namespace: 'payments',
      podName: 'api-1',
      serviceAccount: 'batch',
    });
    const response = await issue(token);
    expect(response.body.error?.code).toBe('ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH');
  });

  it.each([
    ['not PEM', { csr: 'hello' }, 'ERR_CSR_MALFORMED'],
    ['missing csr', {}, 'ERR_REQUEST_INVALID'],
    ['extra field', { csr, spiffe_id: 'spiffe://hallmark.local/admin' }, 'ERR_REQUEST_INVALID'],
  ])('rejects a bad body (%s) after attestation', async (_name, body, code) => {
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const response = await issue(token, body);
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe(code);
  });

  it('fails closed with 503 when the Kubernetes API is down', async () => {
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    await stack.k8s.setDown(true);
    try {
      const response = await issue(token);
      expect(response.status).toBe(503);
      expect(response.body.error?.code).toBe('ERR_ATTEST_UNAVAILABLE');
    } finally {
      await stack.k8s.setDown(false);
    }
  });

  it('answers 503 within the timeout when the Kubernetes API hangs', async () => {
    const token = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    stack.k8s.setLatency(10_000);
    const started = performance.now();
    try {
      const response = await issue(token);
      expect(response.body.error?.code).toBe('ERR_ATTEST_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(2_000 + 1_000); // HALLMARK_K8S_TIMEOUT=2s + 1 s
    } finally {
      stack.k8s.setLatency(0);
    }
  });
});
