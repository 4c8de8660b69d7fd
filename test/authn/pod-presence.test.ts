// The pod presence rule and its cache: a deleted pod is noticed within the window, not per request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodAttestor, createKubernetesApi, type KubernetesApi } from '../../src/attest/index.js';
import { PodPresenceCache, kubernetesPodLookup, podPresence } from '../../src/authn/index.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { MemoryPods, runningPod } from '../fixtures/authn/memory-keys.js';
import { InMemoryKubernetesApi } from '../doubles/memory-kubernetes-api.js';
import { ManualClock } from '../doubles/manual-clock.js';

const REF = { namespace: 'payments', podName: 'api-0', podUid: 'uid-1' };

describe('podPresence', () => {
  it('accepts the same running or pending pod', () => {
    expect(podPresence(runningPod('uid-1'), 'uid-1').present).toBe(true);
    expect(podPresence({ ...runningPod('uid-1'), phase: 'Pending' }, 'uid-1').present).toBe(true);
  });

  it.each([
    ['missing', null],
    ['recreated', runningPod('uid-2')],
    ['terminating', { ...runningPod('uid-1'), terminating: true }],
    ['succeeded', { ...runningPod('uid-1'), phase: 'Succeeded' }],
    ['failed', { ...runningPod('uid-1'), phase: 'Failed' }],
    ['unknown phase', { ...runningPod('uid-1'), phase: '' }],
  ])('refuses a %s pod', (_name, pod) => {
    expect(podPresence(pod, 'uid-1').present).toBe(false);
  });
});

describe('PodPresenceCache', () => {
  it('reuses a present verdict for the window, then asks again', async () => {
    const clock = new ManualClock();
    const pods = new MemoryPods();
    pods.set('payments', 'api-0', runningPod('uid-1'));
    const cache = new PodPresenceCache(pods, clock, { ttlMs: 5_000 });
    expect((await cache.check(REF)).present).toBe(true);
    pods.delete('payments', 'api-0');
    clock.advance(4_999);
    expect((await cache.check(REF)).present).toBe(true);
    expect(pods.lookups).toBe(1);
    clock.advance(1);
    expect(await cache.check(REF)).toEqual({ present: false, reason: 'not found' });
    expect(pods.lookups).toBe(2);
  });

  it('keeps a gone verdict: a pod instance never comes back', async () => {
    const clock = new ManualClock();
    const pods = new MemoryPods();
    const cache = new PodPresenceCache(pods, clock, { ttlMs: 5_000 });
    expect((await cache.check(REF)).present).toBe(false);
    pods.set('payments', 'api-0', runningPod('uid-1'));
    clock.advance(60_000);
    expect((await cache.check(REF)).present).toBe(false);
    expect(pods.lookups).toBe(1);
  });

  it('shares one lookup between concurrent checks of a pod', async () => {
    const pods = new MemoryPods();
    pods.set('payments', 'api-0', runningPod('uid-1'));
    const cache = new PodPresenceCache(pods, new ManualClock());
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => cache.check(REF)));
    expect(verdicts.every((v) => v.present)).toBe(true);
    expect(pods.lookups).toBe(1);
  });

  it('fails closed when the lookup fails, and retries next time', async () => {
    const pods = new MemoryPods();
    pods.set('payments', 'api-0', runningPod('uid-1'));
    pods.failing = true;
    const cache = new PodPresenceCache(pods, new ManualClock());
    await expect(cache.check(REF)).rejects.toThrow('kubernetes unreachable');
    pods.failing = false;
    expect((await cache.check(REF)).present).toBe(true);
  });

  it('stays bounded', async () => {
    const clock = new ManualClock();
    const pods = new MemoryPods();
    const cache = new PodPresenceCache(pods, clock, { ttlMs: 5_000, maxEntries: 10 });
    for (let i = 0; i < 25; i++) await cache.check({ ...REF, podUid: `u${i}` });
    // The first entries were swept: asking again costs a lookup.
    const before = pods.lookups;
    await cache.check({ ...REF, podUid: 'u0' });
    expect(pods.lookups).toBe(before + 1);
  });
});

describe('kubernetesPodLookup', () => {
  it('reads uid, labels, deletion and phase from the Pod object', async () => {
    const api = new InMemoryKubernetesApi();
    api.setPod({
      metadata: {
        name: 'api-0',
        namespace: 'payments',
        uid: 'uid-1',
        labels: { app: 'api' },
        deletionTimestamp: '2026-01-01T00:00:00Z',
      },
      spec: { serviceAccountName: 'api' },
      status: { phase: 'Running' },
    });
    const lookup = kubernetesPodLookup(api);
    expect(await lookup.getPod('payments', 'api-0')).toEqual({
      uid: 'uid-1',
      labels: { app: 'api' },
      terminating: true,
      phase: 'Running',
    });
    expect(await lookup.getPod('payments', 'nope')).toBeNull();
  });
});

describe('the pod re-check against the test Kubernetes API', () => {
  let k8s: TestKubernetesApi;
  let api: KubernetesApi;
  let n = 0;

  /** A freshly attested pod, as login finds it in the issuance record. */
  async function attested(): Promise<typeof REF> {
    n += 1;
    k8s.addPod({ namespace: 'shop', name: `cart-${n}`, serviceAccountName: 'cart' });
    const token = await k8s.issueToken({ namespace: 'shop', podName: `cart-${n}` });
    const id = await new PodAttestor(api, { audience: 'hallmark' }).attest(token);
    return { namespace: id.namespace, podName: id.podName, podUid: id.podUid };
  }

  function cache(): PodPresenceCache {
    return new PodPresenceCache(kubernetesPodLookup(api), new ManualClock());
  }

  beforeAll(async () => {
    k8s = await startTestKubernetesApi();
    api = createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 5000 });
  });
  afterAll(() => k8s.close());

  it('finds the attested pod present with a single Pod GET', async () => {
    const ref = await attested();
    k8s.clearRequests();
    expect((await cache().check(ref)).present).toBe(true);
    expect(k8s.requests().map((r) => `${r.verb} ${r.resource} ${r.namespace}/${r.name}`)).toEqual([
      `get pods shop/${ref.podName}`,
    ]);
  });

  it.each<[string, (ref: typeof REF) => void]>([
    ['deleted', (ref) => k8s.deletePod(ref.namespace, ref.podName)],
    ['recreated', (ref) => void k8s.recreatePod(ref.namespace, ref.podName)],
    ['terminating', (ref) => k8s.deletePod(ref.namespace, ref.podName, { terminating: true })],
    ['finished', (ref) => void k8s.setPhase(ref.namespace, ref.podName, 'Succeeded')],
  ])('finds a pod that was %s gone', async (_name, change) => {
    const ref = await attested();
    change(ref);
    expect((await cache().check(ref)).present).toBe(false);
  });

  it('passes Kubernetes being unavailable through as ERR_ATTEST_UNAVAILABLE', async () => {
    const ref = await attested();
    k8s.failNext(503);
    await expect(cache().check(ref)).rejects.toMatchObject({ code: 'ERR_ATTEST_UNAVAILABLE' });
  });
});
