// Kubernetes answers read as plain JSON: the slices attestation checks, type-checked, failing closed.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  MalformedAnswer,
  answerJson,
  podOf,
  tokenReviewStatusOf,
} from '../../src/attest/kubernetes-answers.js';
import type { KubernetesAnswer } from '../../src/attest/kubernetes-answers.js';

function response(status: number, text: string): KubernetesAnswer {
  return { status, headers: { 'content-type': 'application/json' }, text };
}

const REVIEW = {
  kind: 'TokenReview',
  status: {
    authenticated: true,
    audiences: ['hallmark'],
    user: {
      username: 'system:serviceaccount:payments:api',
      uid: 'u-1',
      groups: ['system:serviceaccounts'],
      extra: { 'authentication.kubernetes.io/pod-name': ['api-0'] },
    },
  },
};

describe('Kubernetes answers', () => {
  it('reads the TokenReview status and the pod fields attestation checks, nothing else', () => {
    expect(tokenReviewStatusOf(REVIEW)).toEqual({
      authenticated: true,
      audiences: ['hallmark'],
      error: undefined,
      user: { ...REVIEW.status.user },
    });
    const pod = podOf({
      metadata: {
        name: 'api-0',
        namespace: 'payments',
        uid: 'p-1',
        labels: { app: 'api' },
        managedFields: [{ manager: 'kubelet' }],
      },
      spec: { serviceAccountName: 'api', nodeName: 'node-1', containers: [{ name: 'app' }] },
      status: { phase: 'Running', podIP: '10.0.0.1' },
    });
    expect(pod).toEqual({
      metadata: {
        name: 'api-0',
        namespace: 'payments',
        uid: 'p-1',
        labels: { app: 'api' },
        deletionTimestamp: undefined,
      },
      spec: { serviceAccountName: 'api', nodeName: 'node-1' },
      status: { phase: 'Running' },
    });
    expect(podOf({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }).metadata).toEqual(
      expect.objectContaining({ deletionTimestamp: '2026-01-01T00:00:00Z' }),
    );
    expect(tokenReviewStatusOf({ status: { authenticated: false, error: 'bad' } })).toEqual(
      expect.objectContaining({ authenticated: false, error: 'bad' }),
    );
  });

  it('refuses an answer whose fields have the wrong types', () => {
    for (const bad of [
      { status: { authenticated: 'true' } },
      { status: { user: { username: 7 } } },
      { status: { user: { extra: { 'authentication.kubernetes.io/pod-name': 'api-0' } } } },
      { status: { audiences: [1] } },
      { status: [] },
      'TokenReview',
    ])
      expect(() => tokenReviewStatusOf(bad)).toThrow(MalformedAnswer);
    for (const bad of [
      { metadata: { uid: 1 } },
      { metadata: { labels: { app: 1 } } },
      { spec: { serviceAccountName: ['api'] } },
      { status: { phase: true } },
      [],
    ])
      expect(() => podOf(bad)).toThrow(MalformedAnswer);
  });

  it('parses a 2xx body, and throws an ApiException carrying the Status for anything else', () => {
    expect(answerJson(response(201, '{"a":1}'), 'create TokenReview')).toEqual({ a: 1 });
    expect(() => answerJson(response(200, 'not json'), 'get pod')).toThrow(MalformedAnswer);
    let refused: unknown;
    try {
      answerJson(response(403, '{"kind":"Status","reason":"Forbidden"}'), 'get pod');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<string>).code).toBe(403);
    expect((refused as ApiException<string>).body).toContain('Forbidden');
  });
});
