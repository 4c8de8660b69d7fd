// deploy/ manifests: every file is accounted for, matches the Kubernetes schemas, keeps Pod
// Security "restricted" in every pod, grants exactly the attestation RBAC, and holds no secret.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { V1ClusterRole, V1ClusterRoleBinding, V1PodSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readRepoFile } from './deploy-files.js';
import {
  FILES,
  KUSTOMIZATIONS,
  MANIFEST_FILES,
  OBJECTS,
  OTHER_FILES,
  PATCH_FILES,
  POLICY_FILES,
  findObject,
  label,
} from './deploy-inventory.js';
import { hasSchema, schemaProblems } from './kube-schema.js';
import { podConventionProblems } from './pod-conventions.js';
import { allContainers, podSecurityProblems, podTemplatesOf } from './pod-security.js';
import { clusterRoleProblems } from './rbac-check.js';
import { literalSecretEnv, secretFindings } from './secret-scan.js';

const SCHEMA_OBJECTS = OBJECTS.filter((o) => hasSchema(o.object));
const POD_TEMPLATES = OBJECTS.flatMap((o) =>
  podTemplatesOf(o.object).map((t) => ({ ...t, file: o.file })),
);

describe('deploy/ files', () => {
  it('holds only manifests, kustomizations, their patches, the example policy, the Dockerfile', () => {
    const known = new Set([
      ...MANIFEST_FILES,
      ...PATCH_FILES,
      ...POLICY_FILES,
      ...OTHER_FILES,
      ...KUSTOMIZATIONS.map((k) => k.file),
    ]);
    expect(FILES.filter((file) => !known.has(file))).toEqual([]);
    expect(FILES.filter((file) => file.endsWith('.yml') || file.endsWith('.json'))).toEqual([]);
    for (const file of [...PATCH_FILES, ...POLICY_FILES, ...OTHER_FILES]) {
      expect(FILES, `${file} is missing`).toContain(file);
    }
  });

  it.each([
    ...MANIFEST_FILES,
    ...PATCH_FILES,
    ...POLICY_FILES,
    ...KUSTOMIZATIONS.map((k) => k.file),
  ])('%s reads the same as YAML 1.1 (kubectl) and YAML 1.2', (file) => {
    // 0440 is 288 to kubectl but 440 to YAML 1.2; `yes`/`on` are booleans only in 1.1.
    const text = readRepoFile(file);
    const as = (version: '1.1' | '1.2'): string =>
      JSON.stringify(parseAllDocuments(text, { version }).map((doc) => doc.toJS()));
    expect(as('1.1')).toBe(as('1.2'));
  });

  it('every manifest file holds at least one object', () => {
    for (const file of MANIFEST_FILES) {
      expect(
        OBJECTS.some((o) => o.file === file),
        file,
      ).toBe(true);
    }
  });
});

describe('Kubernetes schemas', () => {
  it.each(SCHEMA_OBJECTS.map((o) => [label(o), o] as const))('%s', (_name, entry) => {
    expect(schemaProblems(entry.object)).toEqual([]);
  });

  it('only the optional CloudNativePG Cluster has no packaged schema', () => {
    const others = OBJECTS.filter((o) => !hasSchema(o.object)).map(label);
    expect(others).toEqual([
      'deploy/postgres/cloudnativepg-cluster.yaml: Cluster hallmark/hallmark-postgres',
    ]);
    const { object } = findObject('Cluster', 'hallmark-postgres');
    expect(object.apiVersion).toBe('postgresql.cnpg.io/v1');
    const spec = object.spec as {
      instances: number;
      storage: { size: string };
      bootstrap: { initdb: { database: string; owner: string } };
    };
    expect(spec.instances).toBeGreaterThanOrEqual(2);
    expect(spec.storage.size).toMatch(/^[0-9]+[MGT]i$/);
    expect(spec.bootstrap.initdb).toEqual({ database: 'hallmark', owner: 'hallmark' });
  });
});

describe('Pod Security "restricted" in every pod', () => {
  it('there are pod templates to check (server, example app)', () => {
    expect(POD_TEMPLATES.map((t) => t.where).sort()).toEqual([
      'Deployment demo/demo-app',
      'Deployment hallmark/hallmark-server',
    ]);
  });

  it.each(POD_TEMPLATES.map((t) => [t.where, t] as const))('%s', (_name, { template }) => {
    const spec = template.spec as V1PodSpec;
    expect(podSecurityProblems(spec)).toEqual([]);
    // Only the server calls the Kubernetes API (TokenReview, pods get).
    expect(podConventionProblems(spec, spec.serviceAccountName === 'hallmark')).toEqual([]);
  });

  it('every namespace enforces the restricted level', () => {
    const namespaces = OBJECTS.filter((o) => o.object.kind === 'Namespace');
    expect(namespaces.map((o) => o.object.metadata?.name).sort()).toEqual(['demo', 'hallmark']);
    for (const { object } of namespaces) {
      expect(object.metadata?.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    }
  });

  it('every object lives in a namespace deploy/ creates', () => {
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
    for (const { object } of OBJECTS.filter((o) => !clusterScoped.includes(o.object.kind))) {
      expect(['hallmark', 'demo']).toContain(object.metadata?.namespace);
    }
  });

  it('application ServiceAccounts do not mount an API token', () => {
    const accounts = OBJECTS.filter((o) => o.object.kind === 'ServiceAccount');
    for (const { object } of accounts.filter((o) => o.object.metadata?.name !== 'hallmark')) {
      expect(object.automountServiceAccountToken, object.metadata?.name).toBe(false);
    }
  });
});

describe('RBAC: exactly what attestation needs', () => {
  it('the only RBAC objects are the attestor ClusterRole and its binding', () => {
    const rbac = OBJECTS.filter((o) => o.object.apiVersion.startsWith('rbac.authorization.k8s.io'));
    expect(rbac.map(label).sort()).toEqual([
      'deploy/rbac.yaml: ClusterRole hallmark-attestor',
      'deploy/rbac.yaml: ClusterRoleBinding hallmark-attestor',
    ]);
  });

  it('the ClusterRole grants tokenreviews create and pods get, nothing else', () => {
    const role = findObject('ClusterRole', 'hallmark-attestor').object as unknown as V1ClusterRole;
    expect(clusterRoleProblems(role)).toEqual([]);
  });

  it('the binding gives that role to the hallmark ServiceAccount only', () => {
    const binding = findObject('ClusterRoleBinding', 'hallmark-attestor')
      .object as unknown as V1ClusterRoleBinding;
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'hallmark-attestor',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'hallmark', namespace: 'hallmark' },
    ]);
    findObject('ServiceAccount', 'hallmark');
  });
});

describe('kustomizations', () => {
  it.each(KUSTOMIZATIONS.map((k) => [k.file, k] as const))(
    '%s lists every YAML file of its directory',
    (_file, kustomization) => {
      const own = MANIFEST_FILES.filter((file) => path.posix.dirname(file) === kustomization.dir);
      const listed = kustomization.resources
        .filter((resource) => resource.endsWith('.yaml'))
        .map((resource) => path.posix.join(kustomization.dir, resource));
      expect([...listed].sort()).toEqual([...own].sort());
    },
  );

  it('the base lists every base file, RBAC included, and nothing optional', () => {
    const base = KUSTOMIZATIONS.find((k) => k.file === 'deploy/kustomization.yaml');
    expect(base?.resources).toEqual([
      'namespace.yaml',
      'rbac.yaml',
      'audit-archive.yaml',
      'server.yaml',
      'service.yaml',
      'pod-disruption-budget.yaml',
      'network-policy.yaml',
    ]);
    const referenced = KUSTOMIZATIONS.flatMap((k) =>
      k.resources.map((r) => path.posix.join(k.dir, r)),
    );
    expect(referenced.filter((r) => r.startsWith('deploy/postgres'))).toEqual([]);
  });
});

describe('no secret in the repository', () => {
  const scanned = [...FILES, '.dockerignore'];

  it.each(scanned)('%s holds nothing that looks like a credential', (file) => {
    expect(secretFindings(readRepoFile(file))).toEqual([]);
  });

  it('no Secret object is committed, not even with placeholder data', () => {
    expect(OBJECTS.filter((o) => o.object.kind === 'Secret').map(label)).toEqual([]);
  });

  it('no container carries a credential in a literal env value', () => {
    for (const { template } of POD_TEMPLATES) {
      const containers = allContainers(template.spec as V1PodSpec);
      expect(containers.flatMap(literalSecretEnv)).toEqual([]);
    }
  });

  it("the operator's secret files in deploy/secrets are git-ignored", () => {
    for (const file of ['deploy/secrets/master.key', 'deploy/secrets/database-url']) {
      // Exit status 0 means ignored; anything else throws.
      execFileSync('git', ['check-ignore', '-q', file], { cwd: REPO_ROOT });
    }
  });
});
