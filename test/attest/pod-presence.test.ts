// The login-time pod re-check, against the test Kubernetes API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PodAttestor, checkPodStillPresent, createKubernetesApi } from '../../src/attest/index.js';
import type { KubernetesApi, WorkloadIdentity } from '../../src/attest/index.js';
import { startTestKubernetesApi } from '../k8s-api/index.js';
import type { TestKubernetesApi } from '../k8s-api/index.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('checkPodStillPresent against the test Kubernetes API', () => {
  let k8s: TestKubernetesApi;
  let api: KubernetesApi;
  let n = 0;

  async function attested(): Promise<WorkloadIdentity> {
    n += 1;
    k8s.addPod({ namespace: 'shop', name: `cart-${n}`, serviceAccountName: 'cart' });
    const token = await k8s.issueToken({ namespace: 'shop', podName: `cart-${n}` });
    return new PodAttestor(api, { audience: 'hallmark' }).attest(token);
  }

  beforeAll(async () => {
    k8s = await startTestKubernetesApi();
    api = createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 5000 });
  });
  beforeEach(() => k8s.clearRequests());
  afterAll(() => k8s.close());

  it('passes for the attested pod with a single Pod GET', async () => {
    const id = await attested();
    k8s.clearRequests();
    await checkPodStillPresent(api, id);
    expect(k8s.requests().map((r) => `${r.verb} ${r.resource} ${r.namespace}/${r.name}`)).toEqual([
      `get pods shop/${id.podName}`,
    ]);
  });

  it.each<[string, (id: WorkloadIdentity) => void]>([
    ['deleted', (id) => k8s.deletePod(id.namespace, id.podName)],
    ['recreated', (id) => void k8s.recreatePod(id.namespace, id.podName)],
    ['terminating', (id) => k8s.deletePod(id.namespace, id.podName, { terminating: true })],
    ['finished', (id) => void k8s.setPhase(id.namespace, id.podName, 'Succeeded')],
  ])('refuses a pod that was %s with ERR_AUTHN_POD_GONE', async (_name, change) => {
    const id = await attested();
    change(id);
    expect(await codeOf(checkPodStillPresent(api, id))).toBe('ERR_AUTHN_POD_GONE');
  });

  it('passes Kubernetes being unavailable through as ERR_ATTEST_UNAVAILABLE', async () => {
    const id = await attested();
    k8s.failNext(503);
    expect(await codeOf(checkPodStillPresent(api, id))).toBe('ERR_ATTEST_UNAVAILABLE');
  });
});
