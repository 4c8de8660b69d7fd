import { describe, expect, it } from 'vitest';
import { checkPod, checkTokenReview } from '../../src/attest/index.js';
import type { Pod } from '../../src/attest/index.js';
import { podFixture, reviewStatus } from './fixtures.js';
import { codeOf } from '../helpers/error-code.js';

const subject = checkTokenReview(reviewStatus('pod-bound'), 'hallmark');

function running(change: (pod: Pod) => void = () => {}): Pod {
  const pod = podFixture('running');
  change(pod);
  return pod;
}

describe('checkPod', () => {
  it('returns the identity of a running pod that matches the token', () => {
    const identity = checkPod(running(), subject);
    expect(identity).toEqual({
      namespace: 'payments',
      serviceAccount: 'api',
      podName: 'api-7d9f8c6b5-x2k4q',
      podUid: '5b1e7a4c-9f2d-4e0b-8a61-2f3c4d5e6f70',
      labels: { app: 'api', 'pod-template-hash': '7d9f8c6b5', tier: 'backend' },
      nodeName: 'worker-2',
    });
    expect(Object.isFrozen(identity)).toBe(true);
    expect(Object.isFrozen(identity.labels)).toBe(true);
  });

  it('accepts a Pending pod not yet scheduled, with no node', () => {
    const pod = running((p) => {
      p.status!.phase = 'Pending';
      delete p.spec!.nodeName;
    });
    expect(checkPod(pod, subject).nodeName).toBeNull();
  });

  it('refuses a pod whose deletionTimestamp is a Date, as client-node returns it', () => {
    const pod = running((p) => {
      p.metadata!.deletionTimestamp = new Date(Date.UTC(2026, 0, 1, 10, 30));
    });
    expect(codeOf(() => checkPod(pod, subject))).toBe('ERR_ATTEST_POD_TERMINATING');
  });

  it.each<[string, () => Pod | null, string]>([
    ['missing', () => null, 'ERR_ATTEST_POD_NOT_FOUND'],
    [
      'recreated (other uid)',
      () => running((p) => (p.metadata!.uid = '11111111-2222-4333-8444-555555555555')),
      'ERR_ATTEST_POD_UID_MISMATCH',
    ],
    [
      'in another namespace',
      () => running((p) => (p.metadata!.namespace = 'other')),
      'ERR_ATTEST_POD_UID_MISMATCH',
    ],
    ['terminating', () => podFixture('terminating'), 'ERR_ATTEST_POD_TERMINATING'],
    [
      'Succeeded',
      () => running((p) => (p.status!.phase = 'Succeeded')),
      'ERR_ATTEST_POD_NOT_RUNNING',
    ],
    ['Failed', () => running((p) => (p.status!.phase = 'Failed')), 'ERR_ATTEST_POD_NOT_RUNNING'],
    ['Unknown', () => running((p) => (p.status!.phase = 'Unknown')), 'ERR_ATTEST_POD_NOT_RUNNING'],
    ['without a phase', () => running((p) => delete p.status!.phase), 'ERR_ATTEST_POD_NOT_RUNNING'],
    [
      'running as another service account',
      () => running((p) => (p.spec!.serviceAccountName = 'default')),
      'ERR_ATTEST_SERVICE_ACCOUNT_MISMATCH',
    ],
  ])('refuses a pod %s', (_name, pod, code) => {
    expect(codeOf(() => checkPod(pod(), subject))).toBe(code);
  });

  it('checks uid before terminating, and terminating before phase', () => {
    const recreatedAndTerminating = running((p) => {
      p.metadata!.uid = 'other';
      p.metadata!.deletionTimestamp = '2026-01-01T10:30:12Z';
    });
    expect(codeOf(() => checkPod(recreatedAndTerminating, subject))).toBe(
      'ERR_ATTEST_POD_UID_MISMATCH',
    );
    const terminatingAndFailed = running((p) => {
      p.metadata!.deletionTimestamp = '2026-01-01T10:30:12Z';
      p.status!.phase = 'Failed';
    });
    expect(codeOf(() => checkPod(terminatingAndFailed, subject))).toBe(
      'ERR_ATTEST_POD_TERMINATING',
    );
  });
});
