// The client-node adapter's failure handling against the test Kubernetes API, and proof
// that the test API refuses (and records) any call outside deploy/rbac.yaml.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PodAttestor, createKubernetesApi } from '../../src/attest/index.js';
import type { KubernetesApi } from '../../src/attest/index.js';
import { startTestKubernetesApi } from '../k8s-api/index.js';
import type { TestKubernetesApi } from '../k8s-api/index.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

describe('createKubernetesApi', () => {
  let k8s: TestKubernetesApi;
  let api: KubernetesApi;
  let token: string;

  beforeAll(async () => {
    k8s = await startTestKubernetesApi();
    api = createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 400 });
    k8s.addPod({ namespace: 'payments', name: 'api-0', serviceAccountName: 'api' });
    token = await k8s.issueToken({ namespace: 'payments', podName: 'api-0' });
  });
  afterEach(async () => {
    k8s.setLatency(0);
    await k8s.setDown(false);
  });
  afterAll(() => k8s.close());

  it('returns the TokenReview status and the pod', async () => {
    const status = await api.reviewToken(token, ['hallmark']);
    expect(status.authenticated).toBe(true);
    expect(status.audiences).toEqual(['hallmark']);
    const pod = await api.getPod('payments', 'api-0');
    expect(pod?.metadata?.uid).toBe(k8s.getPod('payments', 'api-0')?.metadata.uid);
  });

  it('reads a pod whose answer spans many TLS records, multi-byte text intact', async () => {
    // 64 KB of labels: several reads of the socket, and characters split between them.
    const labels: Record<string, string> = {};
    for (let i = 0; i < 400; i++) labels[`team.example/k${i}`] = `é€😀${'v'.repeat(140)}${i}`;
    k8s.addPod({ namespace: 'payments', name: 'big-0', serviceAccountName: 'api', labels });
    const pod = await api.getPod('payments', 'big-0');
    expect(pod?.metadata?.labels).toEqual(labels);
  });

  it('returns null for a pod that does not exist', async () => {
    expect(await api.getPod('payments', 'nope')).toBeNull();
  });

  it('fails closed with ERR_ATTEST_UNAVAILABLE when the API refuses connections', async () => {
    await k8s.setDown(true, 'refuse');
    expect(await codeOf(api.reviewToken(token, ['hallmark']))).toBe('ERR_ATTEST_UNAVAILABLE');
    expect(await codeOf(api.getPod('payments', 'api-0'))).toBe('ERR_ATTEST_UNAVAILABLE');
    await k8s.setDown(false);
    await expect(api.getPod('payments', 'api-0')).resolves.not.toBeNull();
  });

  it('fails closed with ERR_ATTEST_UNAVAILABLE when the API answers 503', async () => {
    await k8s.setDown(true, 'unavailable');
    expect(await codeOf(api.reviewToken(token, ['hallmark']))).toBe('ERR_ATTEST_UNAVAILABLE');
  });

  it.each([
    [500, 'ERR_ATTEST_UNAVAILABLE'],
    [429, 'ERR_ATTEST_UNAVAILABLE'],
    [401, 'ERR_ATTEST_FORBIDDEN'],
    [403, 'ERR_ATTEST_FORBIDDEN'],
  ])('maps a %i from Kubernetes to %s', async (status, code) => {
    k8s.failNext(status);
    expect(await codeOf(api.reviewToken(token, ['hallmark']))).toBe(code);
    k8s.failNext(status);
    expect(await codeOf(api.getPod('payments', 'api-0'))).toBe(code);
  });

  it('gives up on a slow API with ERR_ATTEST_UNAVAILABLE within the timeout plus 1 s', async () => {
    k8s.setLatency(30_000);
    const attestor = new PodAttestor(api, { audience: 'hallmark' });
    const started = performance.now();
    const err = await attestor.attest(token).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect((err as { code?: string }).code).toBe('ERR_ATTEST_UNAVAILABLE');
    // Hang guard, not a timing assertion: 400 ms timeout, 30 s latency.
    expect(elapsed).toBeLessThan(400 + 1000);
  });

  it('reports ERR_ATTEST_FORBIDDEN when Hallmark’s own credentials are rejected', async () => {
    const wrong = createKubernetesApi({
      kubeconfigYaml: k8s.kubeconfig({ token: 'not-the-service-account-token' }),
      timeoutMs: 2000,
    });
    expect(await codeOf(wrong.reviewToken(token, ['hallmark']))).toBe('ERR_ATTEST_FORBIDDEN');
    expect(k8s.unexpectedRequests().map((r) => r.outcome)).toEqual(['unauthenticated']);
    k8s.clearRequests();
  });

  it('retries reading TLS settings after a failure, and renews its pool over time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-kc-'));
    const caFile = join(dir, 'ca.pem');
    const doc = parse(k8s.kubeconfig()) as {
      clusters: { cluster: Record<string, string> }[];
    };
    delete doc.clusters[0]!.cluster['certificate-authority-data'];
    doc.clusters[0]!.cluster['certificate-authority'] = caFile;
    writeFileSync(join(dir, 'kubeconfig'), stringify(doc));
    const clock = new ManualClock();
    const fromFile = createKubernetesApi({
      kubeconfigPath: join(dir, 'kubeconfig'),
      timeoutMs: 2000,
      clock,
    });
    // The CA file does not exist yet: fail closed, and do not remember the failure.
    expect(await codeOf(fromFile.getPod('payments', 'api-0'))).toBe('ERR_ATTEST_UNAVAILABLE');
    writeFileSync(caFile, k8s.caPem);
    await expect(fromFile.getPod('payments', 'api-0')).resolves.not.toBeNull();
    clock.advance(11 * 60_000);
    await expect(fromFile.getPod('payments', 'api-0')).resolves.not.toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends through the kubeconfig’s proxy, with the same answers and the same deadline', async () => {
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on('connect', (request, client, head) => {
      tunnels.push(request.url ?? '');
      const [host, port] = (request.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const doc = parse(k8s.kubeconfig()) as { clusters: { cluster: Record<string, string> }[] };
      const { port } = proxy.address() as AddressInfo;
      doc.clusters[0]!.cluster['proxy-url'] = `http://127.0.0.1:${port}`;
      const proxied = createKubernetesApi({ kubeconfigYaml: stringify(doc), timeoutMs: 400 });
      expect((await proxied.reviewToken(token, ['hallmark'])).authenticated).toBe(true);
      expect(await proxied.getPod('payments', 'nope')).toBeNull();
      expect(tunnels.length).toBeGreaterThan(0);
      k8s.setLatency(30_000);
      expect(await codeOf(proxied.getPod('payments', 'api-0'))).toBe('ERR_ATTEST_UNAVAILABLE');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it.skipIf(process.env.KUBERNETES_SERVICE_HOST !== undefined)(
    'refuses in-cluster configuration outside a pod with ERR_CONFIG_INVALID',
    () => {
      expect(() => createKubernetesApi({ timeoutMs: 1000 })).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
      );
    },
  );

  it('refuses a configuration it cannot load with ERR_CONFIG_INVALID', () => {
    expect(() => createKubernetesApi({ kubeconfigYaml: 'clusters: [', timeoutMs: 1000 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
    expect(() =>
      createKubernetesApi({ kubeconfigPath: '/nonexistent/kubeconfig', timeoutMs: 1000 }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() => createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });
});

describe('RBAC enforcement by the test Kubernetes API', () => {
  it('refuses calls outside deploy/rbac.yaml with 403, records them, and fails strict close', async () => {
    const k8s = await startTestKubernetesApi();
    k8s.addPod({ namespace: 'payments', name: 'api-0', serviceAccountName: 'api' });
    // The same kubeconfig Hallmark uses, through client-node, as a widened attestor would.
    const kc = new KubeConfig();
    kc.loadFromString(k8s.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);

    const status = async (call: Promise<unknown>): Promise<number | undefined> =>
      call.then(
        () => undefined,
        (err: unknown) => (err as { code?: number }).code,
      );
    expect(await status(core.readNamespace({ name: 'payments' }))).toBe(403);
    expect(await status(core.listNamespacedPod({ namespace: 'payments' }))).toBe(403);
    expect(await status(core.listNamespacedPod({ namespace: 'payments', watch: true }))).toBe(403);
    expect(await status(core.readNamespacedPodLog({ namespace: 'payments', name: 'api-0' }))).toBe(
      403,
    );
    expect(await status(core.deleteNamespacedPod({ namespace: 'payments', name: 'api-0' }))).toBe(
      403,
    );
    // The allowed call still works with the same client.
    await expect(
      core.readNamespacedPod({ namespace: 'payments', name: 'api-0' }),
    ).resolves.toBeTruthy();

    expect(
      k8s.unexpectedRequests().map((r) => [r.verb, r.resource, r.namespace, r.name, r.outcome]),
    ).toEqual([
      ['get', 'namespaces', 'payments', 'payments', 'forbidden'],
      ['list', 'pods', 'payments', '', 'forbidden'],
      ['watch', 'pods', 'payments', '', 'forbidden'],
      ['get', 'pods/log', 'payments', 'api-0', 'forbidden'],
      ['delete', 'pods', 'payments', 'api-0', 'forbidden'],
    ]);
    expect(() => k8s.assertNoUnexpectedRequests()).toThrow();
    // Strict mode (the default) makes close() reject, which fails any suite that closes it.
    await expect(k8s.close()).rejects.toThrow(/outside deploy\/rbac.yaml/);
  });
});
