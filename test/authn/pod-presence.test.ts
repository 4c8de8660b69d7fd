// The pod presence rule and its cache: a deleted pod is noticed within the window, not per request.
import { describe, expect, it } from 'vitest';
import { PodPresenceCache, kubernetesPodLookup, podPresence } from '../../src/authn/index.js';
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
