// Registration matching: namespace, service account and labels; first match wins; the login re-check.
import { describe, expect, it } from 'vitest';
import {
  findRegistration,
  isStillRegistered,
  type WorkloadSelectorInput,
} from '../../src/policy/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { compile, fixture } from './policy-test-helpers.js';

const POLICY = compile(`
workloads:
  - namespace: payments                      # 0
    serviceAccount: api
    labels: {app: api, tier: gold}
    spiffeId: /ns/{namespace}/sa/{serviceAccount}/gold
    ttl: 10m
  - namespace: payments                      # 1
    serviceAccount: api
    ttl: 1h
  - namespace: payments                      # 2
    labels: {app: worker}
    spiffeId: /ns/{namespace}/worker/{label:queue}
  - namespace: payments                      # 3
    serviceAccount: batch
  - namespace: shop                          # 4
    spiffeId: /shop/{serviceAccount}
    allowForeignPath: true
`);

const pod = (
  namespace: string,
  serviceAccount: string,
  labels: Record<string, string> = {},
): WorkloadSelectorInput => ({ namespace, serviceAccount, labels });

describe('findRegistration', () => {
  it.each<[string, WorkloadSelectorInput, number | null, string | null, number | undefined]>([
    [
      'all selectors match the first',
      pod('payments', 'api', { app: 'api', tier: 'gold' }),
      0,
      'spiffe://hallmark.local/ns/payments/sa/api/gold',
      600,
    ],
    [
      'extra pod labels do not matter',
      pod('payments', 'api', { app: 'api', tier: 'gold', x: 'y' }),
      0,
      'spiffe://hallmark.local/ns/payments/sa/api/gold',
      600,
    ],
    [
      'one label differs: next registration',
      pod('payments', 'api', { app: 'api', tier: 'silver' }),
      1,
      'spiffe://hallmark.local/ns/payments/sa/api',
      3600,
    ],
    [
      'one label missing: next registration',
      pod('payments', 'api', { app: 'api' }),
      1,
      'spiffe://hallmark.local/ns/payments/sa/api',
      3600,
    ],
    [
      'label match is case-sensitive',
      pod('payments', 'api', { app: 'API', tier: 'gold' }),
      1,
      'spiffe://hallmark.local/ns/payments/sa/api',
      3600,
    ],
    [
      'any service account with the label',
      pod('payments', 'web', { app: 'worker', queue: 'q1' }),
      2,
      'spiffe://hallmark.local/ns/payments/worker/q1',
      undefined,
    ],
    [
      'template label missing: no match there',
      pod('payments', 'web', { app: 'worker' }),
      null,
      null,
      undefined,
    ],
    [
      'template label missing, later one matches',
      pod('payments', 'batch', { app: 'worker' }),
      3,
      'spiffe://hallmark.local/ns/payments/sa/batch',
      undefined,
    ],
    [
      'service account without labels',
      pod('payments', 'batch'),
      3,
      'spiffe://hallmark.local/ns/payments/sa/batch',
      undefined,
    ],
    ['unregistered service account', pod('payments', 'web'), null, null, undefined],
    [
      'namespace without service account selector',
      pod('shop', 'cart'),
      4,
      'spiffe://hallmark.local/shop/cart',
      undefined,
    ],
    ['unregistered namespace', pod('payments-staging', 'api'), null, null, undefined],
    ['namespace is matched exactly', pod('Payments', 'api'), null, null, undefined],
  ])('%s', (_name, workload, index, id, ttl) => {
    const match = findRegistration(POLICY, workload);
    if (index === null) {
      expect(match).toBeNull();
      return;
    }
    expect(match?.index).toBe(index);
    expect(match?.spiffeId.toString()).toBe(id);
    expect(match?.ttlSeconds).toBe(ttl);
  });

  it('takes the first match in document order, not the most specific', () => {
    const policy = compile(`
workloads:
  - {namespace: a, labels: {x: '1'}, spiffeId: /ns/a/first}
  - {namespace: a, serviceAccount: s, labels: {y: '2'}, spiffeId: /ns/a/second}
`);
    expect(findRegistration(policy, pod('a', 's', { x: '1', y: '2' }))?.spiffeId.toString()).toBe(
      'spiffe://hallmark.local/ns/a/first',
    );
    expect(findRegistration(policy, pod('a', 's', { y: '2' }))?.spiffeId.toString()).toBe(
      'spiffe://hallmark.local/ns/a/second',
    );
  });

  it('does not read inherited properties as pod labels', () => {
    const policy = compile('workloads:\n  - {namespace: a, labels: {constructor: x}}\n');
    expect(findRegistration(policy, pod('a', 's'))).toBeNull();
    expect(findRegistration(policy, pod('a', 's', { constructor: 'x' }))?.index).toBe(0);
  });

  it('registers nothing under the empty policy', () => {
    expect(findRegistration(compile('{}'), pod('payments', 'api'))).toBeNull();
  });

  it('uses the docs/policy.md example', () => {
    const policy = compile(fixture('example.yaml'));
    expect(
      findRegistration(policy, pod('payments', 'batch', { job: 'nightly' }))?.spiffeId.toString(),
    ).toBe('spiffe://hallmark.local/ns/payments/jobs/nightly');
    expect(findRegistration(policy, pod('ops', 'deployer'))?.spiffeId.toString()).toBe(
      'spiffe://hallmark.local/ops/deployer',
    );
  });
});

describe('isStillRegistered', () => {
  const gold = pod('payments', 'api', { app: 'api', tier: 'gold' });

  it('is true for the ID the policy issues, as a string or a parsed ID', () => {
    expect(isStillRegistered(POLICY, gold, 'spiffe://hallmark.local/ns/payments/sa/api/gold')).toBe(
      true,
    );
    expect(
      isStillRegistered(
        POLICY,
        gold,
        parseSpiffeId('spiffe://hallmark.local/ns/payments/sa/api/gold'),
      ),
    ).toBe(true);
  });

  it('is false for an ID another registration would give', () => {
    expect(isStillRegistered(POLICY, gold, 'spiffe://hallmark.local/ns/payments/sa/api')).toBe(
      false,
    );
  });

  it('is false once the registration is removed or re-templated', () => {
    const removed = compile('workloads:\n  - {namespace: shop}\n');
    const retemplated = compile(
      'workloads:\n  - {namespace: payments, spiffeId: "/ns/payments/p/{serviceAccount}"}\n',
    );
    const id = 'spiffe://hallmark.local/ns/payments/sa/api';
    const plain = pod('payments', 'api');
    expect(isStillRegistered(POLICY, plain, id)).toBe(true);
    expect(isStillRegistered(removed, plain, id)).toBe(false);
    expect(isStillRegistered(retemplated, plain, id)).toBe(false);
  });

  it('is false when the pod lost the labels that selected it', () => {
    const id = 'spiffe://hallmark.local/ns/payments/worker/q1';
    expect(
      isStillRegistered(POLICY, pod('payments', 'web', { app: 'worker', queue: 'q1' }), id),
    ).toBe(true);
    expect(
      isStillRegistered(POLICY, pod('payments', 'web', { app: 'worker', queue: 'q2' }), id),
    ).toBe(false);
    expect(isStillRegistered(POLICY, pod('payments', 'web', { queue: 'q1' }), id)).toBe(false);
  });
});
