// The cap on TokenReviews in flight: beyond it attestation is refused at once, with no call.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_TOKENREVIEW_CONCURRENCY,
  PodAttestor,
  createKubernetesApi,
} from '../../src/attest/index.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { codeOf } from '../helpers/error-code.js';

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let k8s: TestKubernetesApi;
let attestor: PodAttestor;
const reviews = () => k8s.requests().filter((r) => r.resource === 'tokenreviews').length;

beforeAll(async () => {
  k8s = await startTestKubernetesApi();
  attestor = new PodAttestor(
    createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 20_000 }),
    { audience: 'hallmark', maxConcurrentReviews: 4 },
  );
});
afterAll(() => k8s.close());
beforeEach(() => k8s.clearRequests());

describe('TokenReview cap', () => {
  it('refuses attestations beyond the cap with ERR_REQUEST_RATE_LIMITED and no call', async () => {
    k8s.hold();
    const held = Array.from({ length: 4 }, () => codeOf(attestor.attest('a')));
    await until(() => k8s.inFlightNow() === 4);
    expect(attestor.reviewsInFlight()).toBe(4);
    for (let i = 0; i < 6; i += 1) {
      expect(await codeOf(attestor.attest(`junk${i}`))).toBe('ERR_REQUEST_RATE_LIMITED');
    }
    expect(reviews()).toBe(4);
    k8s.release();
    expect(await Promise.all(held)).toEqual(Array(4).fill('ERR_ATTEST_TOKEN_INVALID'));
    expect(attestor.reviewsInFlight()).toBe(0);
    // The slots are free again.
    expect(await codeOf(attestor.attest('a'))).toBe('ERR_ATTEST_TOKEN_INVALID');
    expect(reviews()).toBe(5);
  });

  it('frees the slot when the review fails', async () => {
    k8s.failNext(500, 4);
    const failed = await Promise.all(Array.from({ length: 4 }, () => codeOf(attestor.attest('a'))));
    expect(failed).toEqual(Array(4).fill('ERR_ATTEST_UNAVAILABLE'));
    expect(attestor.reviewsInFlight()).toBe(0);
    expect(await codeOf(attestor.attest('a'))).toBe('ERR_ATTEST_TOKEN_INVALID');
  });

  it('does not count tokens refused before any call', async () => {
    k8s.hold();
    const held = Array.from({ length: 4 }, () => codeOf(attestor.attest('a')));
    await until(() => k8s.inFlightNow() === 4);
    expect(await codeOf(attestor.attest('not a token!'))).toBe('ERR_ATTEST_TOKEN_INVALID');
    expect(await codeOf(attestor.attest(''))).toBe('ERR_ATTEST_TOKEN_MISSING');
    k8s.release();
    await Promise.all(held);
  });

  it('defaults to 32 and refuses a cap below 1', () => {
    expect(DEFAULT_TOKENREVIEW_CONCURRENCY).toBe(32);
    const api = createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 1000 });
    expect(() => new PodAttestor(api, { audience: 'h', maxConcurrentReviews: 0 })).toThrow(
      RangeError,
    );
  });
});
