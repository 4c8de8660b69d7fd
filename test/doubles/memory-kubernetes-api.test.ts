// The in-memory Kubernetes API double: it serves the attestor and the pod lookup as the real one does.
import { describe, expect, it } from 'vitest';
import { PodAttestor } from '../../src/attest/index.js';
import { kubernetesPodLookup, podPresence } from '../../src/authn/index.js';
import { podFixture, reviewStatus } from '../attest/fixtures.js';
import { InMemoryKubernetesApi } from './memory-kubernetes-api.js';

describe('InMemoryKubernetesApi', () => {
  it('serves the attestor and the pod lookup from fixtures and records the calls', async () => {
    const memory = new InMemoryKubernetesApi();
    memory.setReview('t0ken', reviewStatus('pod-bound'));
    memory.setPod(podFixture('running'));
    const id = await new PodAttestor(memory, { audience: 'hallmark' }).attest('t0ken');
    expect(id.podName).toBe('api-7d9f8c6b5-x2k4q');
    expect(memory.calls).toEqual(['review', 'get payments/api-7d9f8c6b5-x2k4q']);

    const lookup = kubernetesPodLookup(memory);
    expect(podPresence(await lookup.getPod(id.namespace, id.podName), id.podUid).present).toBe(
      true,
    );
    memory.deletePod('payments', 'api-7d9f8c6b5-x2k4q');
    expect(await lookup.getPod(id.namespace, id.podName)).toBeNull();
    await expect(
      new PodAttestor(memory, { audience: 'hallmark' }).attest('other'),
    ).rejects.toMatchObject({ code: 'ERR_ATTEST_TOKEN_INVALID' });
  });
});
