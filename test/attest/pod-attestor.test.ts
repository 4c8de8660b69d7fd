// The attestor against the test Kubernetes API over HTTPS, through client-node.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PodAttestor, createKubernetesApi } from '../../src/attest/index.js';
import { startTestKubernetesApi } from '../k8s-api/index.js';
import type { TestKubernetesApi } from '../k8s-api/index.js';
import { codeOf } from '../helpers/error-code.js';

let k8s: TestKubernetesApi;
let attestor: PodAttestor;

beforeAll(async () => {
  k8s = await startTestKubernetesApi();
  attestor = new PodAttestor(
    createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 5000 }),
    {
      audience: 'hallmark',
    },
  );
});

// Strict mode: close() rejects if any call fell outside deploy/rbac.yaml, failing the file.
afterAll(() => k8s.close());

beforeEach(() => {
  k8s.clearRequests();
});

describe('PodAttestor.attest', () => {
  it('verifies a running pod with exactly one TokenReview and one Pod GET', async () => {
    const pod = k8s.addPod({
      namespace: 'payments',
      name: 'api-0',
      serviceAccountName: 'api',
      labels: { app: 'api' },
      nodeName: 'worker-1',
    });
    const token = await k8s.issueToken({ namespace: 'payments', podName: 'api-0' });

    const identity = await attestor.attest(token);

    expect(identity).toEqual({
      namespace: 'payments',
      serviceAccount: 'api',
      podName: 'api-0',
      podUid: pod.metadata.uid,
      labels: { app: 'api' },
      nodeName: 'worker-1',
    });
    expect(
      k8s.requests().map((r) => ({
        method: r.method,
        path: r.path,
        verb: r.verb,
        resource: r.resource,
        allowed: r.allowed,
      })),
    ).toEqual([
      {
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/tokenreviews',
        verb: 'create',
        resource: 'tokenreviews',
        allowed: true,
      },
      {
        method: 'GET',
        path: '/api/v1/namespaces/payments/pods/api-0',
        verb: 'get',
        resource: 'pods',
        allowed: true,
      },
    ]);
    expect(k8s.unexpectedRequests()).toEqual([]);
  });

  it('accepts a Pending pod', async () => {
    k8s.addPod({
      namespace: 'batch',
      name: 'job-1',
      serviceAccountName: 'worker',
      phase: 'Pending',
    });
    const token = await k8s.issueToken({ namespace: 'batch', podName: 'job-1' });
    await expect(attestor.attest(token)).resolves.toMatchObject({ podName: 'job-1' });
  });

  it('uses the configured audience', async () => {
    k8s.addPod({ namespace: 'payments', name: 'api-aud', serviceAccountName: 'api' });
    const other = new PodAttestor(
      createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 5000 }),
      { audience: 'hallmark.example.com' },
    );
    const token = await k8s.issueToken({
      namespace: 'payments',
      podName: 'api-aud',
      audiences: ['hallmark.example.com'],
    });
    await expect(other.attest(token)).resolves.toMatchObject({ podName: 'api-aud' });
    expect(await codeOf(attestor.attest(token))).toBe('ERR_ATTEST_AUDIENCE_MISMATCH');
  });

  describe('refuses', () => {
    const ns = 'refusals';
    let n = 0;
    function pod(serviceAccountName = 'app'): string {
      n += 1;
      const name = `app-${n}`;
      k8s.addPod({ namespace: ns, name, serviceAccountName });
      return name;
    }

    it.each<[string, () => Promise<string | undefined | null>, string]>([
      ['no token (undefined)', async () => undefined, 'ERR_ATTEST_TOKEN_MISSING'],
      ['no token (empty)', async () => '', 'ERR_ATTEST_TOKEN_MISSING'],
      ['a malformed token', async () => 'Bearer not a token', 'ERR_ATTEST_TOKEN_INVALID'],
      ['a token that is not a JWT', async () => k8s.garbageToken(), 'ERR_ATTEST_TOKEN_INVALID'],
      [
        'a forged token (untrusted signing key)',
        () => k8s.issueToken({ namespace: ns, podName: pod(), untrustedKey: true }),
        'ERR_ATTEST_TOKEN_INVALID',
      ],
      [
        'a token for another audience',
        () => k8s.issueToken({ namespace: ns, podName: pod(), audiences: ['vault'] }),
        'ERR_ATTEST_AUDIENCE_MISMATCH',
      ],
      [
        'an expired token',
        () => k8s.issueToken({ namespace: ns, podName: pod(), expired: true }),
        'ERR_ATTEST_TOKEN_INVALID',
      ],
      [
        'a token not bound to a pod',
        () => k8s.issueToken({ namespace: ns, serviceAccount: 'app' }),
        'ERR_ATTEST_TOKEN_NOT_POD_BOUND',
      ],
      [
        'the token of a deleted pod (TokenReview invalidates it)',
        async () => {
          const name = pod();
          const token = await k8s.issueToken({ namespace: ns, podName: name });
          k8s.deletePod(ns, name);
          return token;
        },
        'ERR_ATTEST_TOKEN_INVALID',
      ],
      [
        'the token of a pod recreated under the same name (TokenReview invalidates it)',
        async () => {
          const name = pod();
          const token = await k8s.issueToken({ namespace: ns, podName: name });
          k8s.recreatePod(ns, name);
          return token;
        },
        'ERR_ATTEST_TOKEN_INVALID',
      ],
      [
        'a terminating pod',
        async () => {
          const name = pod();
          k8s.deletePod(ns, name, { terminating: true, gracePeriodSeconds: 30 });
          return k8s.issueToken({ namespace: ns, podName: name });
        },
        'ERR_ATTEST_POD_TERMINATING',
      ],
      [
        'a Succeeded pod',
        async () => {
          const name = pod();
          k8s.setPhase(ns, name, 'Succeeded');
          return k8s.issueToken({ namespace: ns, podName: name });
        },
        'ERR_ATTEST_POD_NOT_RUNNING',
      ],
      [
        'a Failed pod',
        async () => {
          const name = pod();
          k8s.setPhase(ns, name, 'Failed');
          return k8s.issueToken({ namespace: ns, podName: name });
        },
        'ERR_ATTEST_POD_NOT_RUNNING',
      ],
      [
        'a token whose service account is not the pod’s',
        () => k8s.issueToken({ namespace: ns, podName: pod('app'), serviceAccount: 'admin' }),
        'ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH',
      ],
    ])('%s', async (_name, makeToken, code) => {
      const token = await makeToken();
      expect(await codeOf(attestor.attest(token))).toBe(code);
      expect(k8s.unexpectedRequests()).toEqual([]);
    });

    it('a missing token without calling Kubernetes', async () => {
      expect(await codeOf(attestor.attest(''))).toBe('ERR_ATTEST_TOKEN_MISSING');
      expect(k8s.requests()).toEqual([]);
    });

    it('with a detail that never contains the token', async () => {
      const token = await k8s.issueToken({ namespace: ns, podName: pod(), expired: true });
      const err = await attestor.attest(token).catch((e: unknown) => e);
      expect((err as { detail?: string }).detail).toBeTruthy();
      expect((err as { detail?: string }).detail).not.toContain(token);
      expect(String((err as Error).message)).not.toContain(token);
    });
  });
});

describe('PodAttestor.attest when TokenReview answers from its cache', () => {
  // kube-apiserver caches successful token authentications for ~10 s, so a deleted or
  // recreated pod's token can pass review; the Pod GET is what catches it.
  let cached: TestKubernetesApi;
  let cachedAttestor: PodAttestor;

  beforeAll(async () => {
    cached = await startTestKubernetesApi({ tokenReviewCacheMs: 60_000 });
    cachedAttestor = new PodAttestor(
      createKubernetesApi({ kubeconfigYaml: cached.kubeconfig(), timeoutMs: 5000 }),
      { audience: 'hallmark' },
    );
  });
  afterAll(() => cached.close());

  it('refuses a pod deleted after its token was reviewed with ERR_ATTEST_POD_NOT_FOUND', async () => {
    cached.addPod({ namespace: 'web', name: 'web-0', serviceAccountName: 'web' });
    const token = await cached.issueToken({ namespace: 'web', podName: 'web-0' });
    await cachedAttestor.attest(token);
    cached.deletePod('web', 'web-0');
    expect(await codeOf(cachedAttestor.attest(token))).toBe('ERR_ATTEST_POD_NOT_FOUND');
  });

  it('refuses a pod recreated under the same name with ERR_ATTEST_POD_UID_MISMATCH', async () => {
    cached.addPod({ namespace: 'web', name: 'web-1', serviceAccountName: 'web' });
    const token = await cached.issueToken({ namespace: 'web', podName: 'web-1' });
    await cachedAttestor.attest(token);
    cached.recreatePod('web', 'web-1');
    expect(await codeOf(cachedAttestor.attest(token))).toBe('ERR_ATTEST_POD_UID_MISMATCH');
  });
});
