// The manifest checkers can fail: mutated copies of the real manifests are caught, each way.
import type { V1ClusterRole, V1Container, V1PodSpec, V1PolicyRule } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './deploy-files.js';
import { findObject } from './deploy-inventory.js';
import { schemaProblems } from './kube-schema.js';
import { podConventionProblems } from './pod-conventions.js';
import { podSecurityProblems } from './pod-security.js';
import { clusterRoleProblems } from './rbac-check.js';
import { literalSecretEnv, secretFindings } from './secret-scan.js';

/** A deep copy of the pod spec of a Deployment under deploy/. */
function podSpecOf(name: string): V1PodSpec {
  const deployment = structuredClone(findObject('Deployment', name).object);
  return (deployment.spec as { template: { spec: V1PodSpec } }).template.spec;
}

function container(spec: V1PodSpec, name: string): V1Container {
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

type PodMutation = readonly [string, string, (spec: V1PodSpec) => void, string];

// [case, deployment, mutation, expected problem]
const POD_MUTATIONS: readonly PodMutation[] = [
  [
    'sidecar without readOnlyRootFilesystem',
    'demo-app',
    (s) => delete container(s, 'hallmark-sidecar').securityContext!.readOnlyRootFilesystem,
    'container hallmark-sidecar: securityContext.readOnlyRootFilesystem must be true',
  ],
  [
    'server with a writable root filesystem',
    'hallmark-server',
    (s) => (container(s, 'server').securityContext!.readOnlyRootFilesystem = false),
    'container server: securityContext.readOnlyRootFilesystem must be true',
  ],
  [
    'app allowing privilege escalation',
    'demo-app',
    (s) => (container(s, 'demo-app').securityContext!.allowPrivilegeEscalation = true),
    'container demo-app: securityContext.allowPrivilegeEscalation must be false',
  ],
  [
    'server keeping its capabilities',
    'hallmark-server',
    (s) => delete container(s, 'server').securityContext!.capabilities,
    'container server: securityContext.capabilities.drop must include ALL',
  ],
  [
    'sidecar adding NET_RAW',
    'demo-app',
    (s) => (container(s, 'hallmark-sidecar').securityContext!.capabilities!.add = ['NET_RAW']),
    'container hallmark-sidecar: securityContext.capabilities.add must be empty',
  ],
  [
    'privileged app',
    'demo-app',
    (s) => (container(s, 'demo-app').securityContext!.privileged = true),
    'container demo-app: securityContext.privileged must not be true',
  ],
  [
    'pod without runAsNonRoot',
    'hallmark-server',
    (s) => delete s.securityContext!.runAsNonRoot,
    'pod: securityContext.runAsNonRoot must be true',
  ],
  [
    'pod running as root',
    'hallmark-server',
    (s) => (s.securityContext!.runAsUser = 0),
    'pod: securityContext.runAsUser must be > 0',
  ],
  [
    'pod with group 0',
    'demo-app',
    (s) => (s.securityContext!.runAsGroup = 0),
    'pod: securityContext.runAsGroup must be > 0',
  ],
  [
    'container overriding to uid 0',
    'demo-app',
    (s) => (container(s, 'hallmark-sidecar').securityContext!.runAsUser = 0),
    'container hallmark-sidecar: runAsUser must be > 0',
  ],
  [
    'pod without seccomp',
    'demo-app',
    (s) => delete s.securityContext!.seccompProfile,
    'pod: securityContext.seccompProfile.type must be RuntimeDefault',
  ],
  [
    'container with seccomp Unconfined',
    'hallmark-server',
    (s) => (container(s, 'server').securityContext!.seccompProfile = { type: 'Unconfined' }),
    'container server: seccompProfile must be RuntimeDefault',
  ],
  [
    'hostPath volume',
    'demo-app',
    (s) => s.volumes!.push({ name: 'host', hostPath: { path: '/' } }),
    'pod: volume host of type hostPath is not allowed',
  ],
  [
    'host network',
    'hallmark-server',
    (s) => (s.hostNetwork = true),
    'pod: hostNetwork must not be true',
  ],
  [
    'host port',
    'hallmark-server',
    (s) => (container(s, 'server').ports![0]!.hostPort = 8443),
    'container server: hostPort must not be used',
  ],
];

describe('podSecurityProblems catches', () => {
  it.each(POD_MUTATIONS)('%s', (_case, deployment, mutate, expected) => {
    const spec = podSpecOf(deployment);
    expect(podSecurityProblems(spec)).toEqual([]);
    mutate(spec);
    expect(podSecurityProblems(spec)).toContain(expected);
  });

  it('an init container without any securityContext', () => {
    const spec = podSpecOf('demo-app');
    delete container(spec, 'hallmark-sidecar').securityContext;
    expect(podSecurityProblems(spec)).toEqual(
      expect.arrayContaining([
        'container hallmark-sidecar: securityContext.readOnlyRootFilesystem must be true',
        'container hallmark-sidecar: securityContext.allowPrivilegeEscalation must be false',
        'container hallmark-sidecar: securityContext.capabilities.drop must include ALL',
      ]),
    );
  });
});

describe('podConventionProblems catches', () => {
  it('service links left on (HALLMARK_SERVICE_HOST would stop the server)', () => {
    const spec = podSpecOf('hallmark-server');
    delete spec.enableServiceLinks;
    expect(podConventionProblems(spec, true)).toContain('pod: enableServiceLinks must be false');
  });

  it('an API token mounted into the app pod', () => {
    const spec = podSpecOf('demo-app');
    spec.automountServiceAccountToken = true;
    expect(podConventionProblems(spec, false)).toContain(
      'pod: automountServiceAccountToken must be false',
    );
  });

  it('no writable /tmp, and no memory limit', () => {
    const spec = podSpecOf('demo-app');
    const app = container(spec, 'demo-app');
    app.volumeMounts = app.volumeMounts!.filter((m) => m.mountPath !== '/tmp');
    delete app.resources!.limits;
    expect(podConventionProblems(spec, false)).toEqual([
      'container demo-app: no memory limit',
      'container demo-app: needs a writable emptyDir at /tmp',
    ]);
  });
});

describe('clusterRoleProblems catches', () => {
  const role = (): V1ClusterRole =>
    structuredClone(findObject('ClusterRole', 'hallmark-attestor').object) as V1ClusterRole;
  const rules = (r: V1ClusterRole): V1PolicyRule[] => r.rules as V1PolicyRule[];

  const MUTATIONS: readonly (readonly [string, (r: V1ClusterRole) => void])[] = [
    ['pods list', (r) => rules(r)[1]!.verbs.push('list')],
    ['pods watch', (r) => rules(r)[1]!.verbs.push('watch')],
    ['tokenreviews get', (r) => rules(r)[0]!.verbs.push('get')],
    ['every verb on pods', (r) => (rules(r)[1]!.verbs = ['*'])],
    ['secrets get', (r) => rules(r)[1]!.resources!.push('secrets')],
    ['pods/exec', (r) => rules(r)[1]!.resources!.push('pods/exec')],
    ['an extra API group', (r) => rules(r)[1]!.apiGroups!.push('apps')],
    [
      'an extra rule',
      (r) => rules(r).push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }),
    ],
    ['a missing rule', (r) => rules(r).pop()],
    ['resourceNames', (r) => (rules(r)[1]!.resourceNames = ['x'])],
    ['nonResourceURLs', (r) => (rules(r)[0]!.nonResourceURLs = ['/metrics'])],
    [
      'an aggregationRule',
      (r) => (r.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] }),
    ],
  ];

  it.each(MUTATIONS)('%s', (_case, mutate) => {
    const copy = role();
    expect(clusterRoleProblems(copy)).toEqual([]);
    mutate(copy);
    expect(clusterRoleProblems(copy).length).toBeGreaterThan(0);
  });
});

describe('schemaProblems catches', () => {
  const server = (): KubeObject =>
    structuredClone(findObject('Deployment', 'hallmark-server').object);
  const podSpec = (o: KubeObject): Record<string, unknown> =>
    (o.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  const firstContainer = (o: KubeObject): Record<string, unknown> =>
    (podSpec(o).containers as Record<string, unknown>[])[0]!;

  const MUTATIONS: readonly (readonly [string, (o: KubeObject) => void, RegExp])[] = [
    [
      'a string where an integer belongs',
      (o) => ((o.spec as Record<string, unknown>).replicas = 'two'),
      /replicas/,
    ],
    [
      'a misspelt field',
      (o) => (firstContainer(o).readinesProbe = {}),
      /readinesProbe: unknown field/,
    ],
    [
      'a misspelt security field',
      (o) =>
        ((firstContainer(o).securityContext as Record<string, unknown>).readOnlyRootFilesytem =
          true),
      /readOnlyRootFilesytem: unknown field/,
    ],
    ['missing containers', (o) => delete podSpec(o).containers, /containers/],
    [
      'a bad enum value',
      (o) => ((firstContainer(o).ports as Record<string, unknown>[])[0]!.protocol = 'HTTP'),
      /protocol/,
    ],
    ['an unknown kind', (o) => (o.kind = 'Deploymnet'), /no schema/],
  ];

  it.each(MUTATIONS)('%s', (_case, mutate, expected) => {
    const copy = server();
    expect(schemaProblems(copy)).toEqual([]);
    mutate(copy);
    expect(schemaProblems(copy).join('\n')).toMatch(expected);
  });
});

describe('secret scanning catches', () => {
  // Built at run time so that this file itself does not trip the scan.
  const b64 = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString(
    'base64',
  );
  const CASES: readonly (readonly [string, string])[] = [
    ['a private key', `-----BEGIN ${'EC PRIVATE'} KEY-----\nMHcCAQEE\n`],
    ['a password in a URL', `DATABASE_URL: postgresql://hallmark:${'s3cr3t-Pass'}@db:5432/h`],
    ['a JWT', `token: ${'eyJhbGciOiJFUzI1NiJ9'}.${'eyJzdWIiOiJzcGlmZmUifQ'}.c2ln`],
    ['a base64 master key', `master.key: ${b64}`],
    ['an AWS key id', `id: ${'AKIA'}ABCDEFGHIJKLMNOP`],
    ['hex key material', `key: ${'0123456789abcdef'.repeat(3)}`],
  ];

  it.each(CASES)('%s', (_case, text) => {
    expect(secretFindings(text).length).toBeGreaterThan(0);
  });

  it('but not documentation placeholders, paths or image names', () => {
    const text = [
      "printf '%s' 'postgresql://hallmark:<password>@<host>:5432/hallmark'",
      'path: /spec/template/spec/initContainers/0/env/5',
      'image: registry.example.com/hallmark:0.1.0',
      'value: hallmark.hallmark.svc,hallmark.hallmark.svc.cluster.local',
    ].join('\n');
    expect(secretFindings(text)).toEqual([]);
  });

  it('credentials in literal env values, but not paths to them', () => {
    expect(
      literalSecretEnv({
        name: 'x',
        env: [
          { name: 'DATABASE_URL', value: 'postgresql://db/h' },
          { name: 'HALLMARK_BROKER_PASSWORD', value: 'x'.repeat(16) },
          { name: 'HALLMARK_MASTER_KEY_FILE', value: '/etc/hallmark/master-key/master.key' },
          { name: 'HALLMARK_TOKEN_PATH', value: '/var/run/secrets/tokens/hallmark-token' },
          { name: 'DB', valueFrom: { secretKeyRef: { name: 'db', key: 'uri' } } },
        ],
      }),
    ).toEqual([
      'container x: DATABASE_URL has a literal value',
      'container x: HALLMARK_BROKER_PASSWORD has a literal value',
    ]);
  });
});
