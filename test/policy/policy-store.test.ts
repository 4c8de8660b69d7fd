// The in-memory policy store: deny-all until loaded, versions, and a bad document changes nothing.
import { describe, expect, it } from 'vitest';
import { isHallmarkError } from '../../src/errors/index.js';
import {
  InMemoryPolicyStore,
  PolicyInvalidError,
  canAccess,
  findRegistration,
} from '../../src/policy/index.js';
import { OPTIONS, fixture } from './policy-test-helpers.js';

const API = { namespace: 'payments', serviceAccount: 'api', labels: { app: 'api' } };

describe('InMemoryPolicyStore', () => {
  it('starts at version 0 with the deny-all policy', () => {
    const store = new InMemoryPolicyStore(OPTIONS);
    expect(store.version()).toBe(0);
    expect(findRegistration(store.current(), API)).toBeNull();
    expect(canAccess(store.current(), 'key:admin', 'read', 'payments/db')).toBe(false);
  });

  it('replaces the policy and counts versions', async () => {
    const store = new InMemoryPolicyStore(OPTIONS);
    expect(await store.replace(fixture('example.yaml'))).toBe(1);
    expect(store.version()).toBe(1);
    expect(findRegistration(store.current(), API)?.index).toBe(0);
    expect(await store.replace('{}')).toBe(2);
    expect(findRegistration(store.current(), API)).toBeNull();
  });

  it('keeps the old policy and version when the new document is invalid', async () => {
    const store = new InMemoryPolicyStore(OPTIONS);
    await store.replace(fixture('example.yaml'));
    const before = store.current();
    const error: unknown = await store
      .replace(fixture('several-problems.yaml'))
      .catch((e: unknown) => e);
    expect(isHallmarkError(error, 'ERR_POLICY_INVALID')).toBe(true);
    expect(error).toBeInstanceOf(PolicyInvalidError);
    expect((error as PolicyInvalidError).problems.length).toBeGreaterThan(1);
    expect(store.version()).toBe(1);
    expect(store.current()).toBe(before);
  });

  it('applies its compile options (maximum TTL) to every replacement', async () => {
    const store = new InMemoryPolicyStore({ ...OPTIONS, maxTtlSeconds: 600 });
    const error: unknown = await store
      .replace('workloads:\n  - {namespace: a, ttl: 1h}\n')
      .catch((e: unknown) => e);
    expect(isHallmarkError(error, 'ERR_POLICY_INVALID')).toBe(true);
    expect(await store.replace('workloads:\n  - {namespace: a, ttl: 10m}\n')).toBe(1);
  });
});
