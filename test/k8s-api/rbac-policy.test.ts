import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RBAC_MANIFEST_URL, isAllowed, loadRbacPolicy, requestAttributes } from './index.js';

function allowed(policy: ReturnType<typeof loadRbacPolicy>, method: string, url: string): boolean {
  const u = new URL(url, 'https://127.0.0.1');
  return isAllowed(policy, requestAttributes(method, u.pathname, u.searchParams));
}

describe('deploy/rbac.yaml as the test API reads it', () => {
  const policy = loadRbacPolicy();

  it('binds exactly two rules to system:serviceaccount:hallmark:hallmark', () => {
    expect(policy.username).toBe('system:serviceaccount:hallmark:hallmark');
    expect(policy.rules).toEqual([
      {
        apiGroups: ['authentication.k8s.io'],
        resources: ['tokenreviews'],
        verbs: ['create'],
        resourceNames: [],
        nonResourceURLs: [],
      },
      {
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['get'],
        resourceNames: [],
        nonResourceURLs: [],
      },
    ]);
  });

  it.each([
    ['POST', '/apis/authentication.k8s.io/v1/tokenreviews', true],
    ['GET', '/api/v1/namespaces/any/pods/any', true],
    ['GET', '/api/v1/namespaces/any/pods', false],
    ['GET', '/api/v1/namespaces/any/pods?watch=true', false],
    ['GET', '/api/v1/namespaces/any/pods/p/log', false],
    ['POST', '/api/v1/namespaces/any/pods/p/exec', false],
    ['DELETE', '/api/v1/namespaces/any/pods/p', false],
    ['GET', '/api/v1/namespaces/any', false],
    ['GET', '/api/v1/namespaces/any/secrets/s', false],
    ['GET', '/apis/authentication.k8s.io/v1/tokenreviews', false],
    ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', false],
    ['GET', '/version', false],
  ])('%s %s → %s', (method, url, expected) => {
    expect(allowed(policy, method, url)).toBe(expected);
  });

  it('is read from the file, so widening the file widens what is allowed', () => {
    const widened = readFileSync(RBAC_MANIFEST_URL, 'utf8').replace(
      "verbs: ['get']",
      "verbs: ['get', 'list']",
    );
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-rbac-'));
    writeFileSync(join(dir, 'rbac.yaml'), widened);
    const wide = loadRbacPolicy(join(dir, 'rbac.yaml'));
    rmSync(dir, { recursive: true, force: true });
    expect(allowed(wide, 'GET', '/api/v1/namespaces/any/pods')).toBe(true);
    expect(allowed(policy, 'GET', '/api/v1/namespaces/any/pods')).toBe(false);
  });

  it('grants nothing to a service account the manifest does not bind', () => {
    const other = loadRbacPolicy(RBAC_MANIFEST_URL, { namespace: 'default', name: 'default' });
    expect(other.rules).toEqual([]);
    expect(allowed(other, 'GET', '/api/v1/namespaces/any/pods/any')).toBe(false);
  });
});
