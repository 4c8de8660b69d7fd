// The server's manifests agree with each other and with the server's own configuration checks.
import type {
  V1Deployment,
  V1NetworkPolicy,
  V1NetworkPolicySpec,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1Service,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { findObject } from './deploy-inventory.js';
import { containerEnv, containerNamed, mountFor } from './pod-env.js';

const deployment = findObject('Deployment', 'hallmark-server').object as unknown as V1Deployment;
const template = deployment.spec!.template;
const pod = template.spec as V1PodSpec;
const server = containerNamed(pod, 'server');
const podLabels = template.metadata?.labels ?? {};

/** True when every label the selector asks for is on the server pods. */
function selectsServer(selector: Readonly<Record<string, string>> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => podLabels[key] === value);
}

/** The container port a Service or probe port (number or name) lands on. */
function containerPort(port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return server.ports?.find((p) => p.name === port)?.containerPort;
}

function networkPolicySpec(): V1NetworkPolicySpec {
  const policy = findObject('NetworkPolicy', 'hallmark-server')
    .object as unknown as V1NetworkPolicy;
  return policy.spec as V1NetworkPolicySpec;
}

const STAND_INS = { DATABASE_URL: 'postgresql://hallmark@postgres.invalid:5432/hallmark' };

describe('server Deployment', () => {
  it('runs 2 replicas of `hallmark server` as the hallmark ServiceAccount', () => {
    expect(deployment.spec?.replicas).toBe(2);
    expect(selectsServer(deployment.spec?.selector.matchLabels)).toBe(true);
    expect(pod.serviceAccountName).toBe('hallmark');
    expect(server.args).toEqual(['server']);
    expect(server.command).toBeUndefined();
  });

  it('probes: readiness /readyz, liveness and startup /healthz, over HTTPS on 8443', () => {
    expect(server.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(server.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
    expect(server.startupProbe?.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
    for (const probe of [server.readinessProbe, server.livenessProbe, server.startupProbe]) {
      expect(containerPort(probe?.httpGet?.port as number | string)).toBe(8443);
    }
  });

  it('spreads replicas: pod anti-affinity and topology spread over the server pods', () => {
    const anti = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(anti?.length).toBeGreaterThan(0);
    for (const term of anti ?? []) {
      expect(selectsServer(term.podAffinityTerm.labelSelector?.matchLabels)).toBe(true);
    }
    const spread = pod.topologySpreadConstraints ?? [];
    expect(spread.map((c) => c.topologyKey).sort()).toEqual([
      'kubernetes.io/hostname',
      'topology.kubernetes.io/zone',
    ]);
    for (const constraint of spread) {
      expect(selectsServer(constraint.labelSelector?.matchLabels)).toBe(true);
    }
  });

  it('has Prometheus scrape annotations for its HTTPS /metrics', () => {
    expect(template.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/scheme': 'https',
      'prometheus.io/port': '8443',
      'prometheus.io/path': '/metrics',
    });
  });
});

describe('server configuration', () => {
  const env = containerEnv(server, STAND_INS);
  const config = loadServerConfig({ env });

  it('passes the server start-up checks (no unknown HALLMARK_* variable, valid values)', () => {
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 8443 });
    expect(config.inCluster).toBe(true);
    expect(config.kubeconfigPath).toBeUndefined();
    expect(config.databaseUrl).toBe(STAND_INS.DATABASE_URL);
  });

  it('takes DATABASE_URL from Secret hallmark-db and the master key from hallmark-master-key', () => {
    const database = server.env?.find((e) => e.name === 'DATABASE_URL');
    expect(database?.valueFrom?.secretKeyRef).toEqual({ name: 'hallmark-db', key: 'uri' });
    expect(config.masterKey.kind).toBe('file');
    const keyFile = (config.masterKey as { path: string }).path;
    const { mountPath, volume } = mountFor(pod, server, keyFile);
    expect(volume.secret?.secretName).toBe('hallmark-master-key');
    expect(volume.secret?.items).toEqual([
      { key: 'master.key', path: keyFile.slice(mountPath.length + 1) },
    ]);
  });

  it('writes its data dir (admin.key, bundle.pem) to an emptyDir, the root being read-only', () => {
    const { volume } = mountFor(pod, server, config.dataDir);
    expect(volume.emptyDir).toBeDefined();
  });

  it('has the Service names in its certificate and as the token issuer', () => {
    const service = findObject('Service', 'hallmark').object;
    const dns = `${service.metadata?.name}.${service.metadata?.namespace}.svc`;
    // localhost: admin commands through `kubectl port-forward`.
    expect(config.serverNames).toEqual([dns, `${dns}.cluster.local`, 'localhost']);
    expect(config.publicUrl).toBe(`https://${dns}:8443`);
  });
});

describe('Service, PodDisruptionBudget and NetworkPolicy', () => {
  it('the Service sends 8443 to the server container', () => {
    const service = findObject('Service', 'hallmark').object as unknown as V1Service;
    expect(selectsServer(service.spec?.selector)).toBe(true);
    expect(service.spec?.ports?.map((p) => [p.port, containerPort(p.targetPort)])).toEqual([
      [8443, 8443],
    ]);
  });

  it('the PodDisruptionBudget keeps one server up', () => {
    const pdb = findObject('PodDisruptionBudget', 'hallmark-server')
      .object as unknown as V1PodDisruptionBudget;
    expect(selectsServer(pdb.spec?.selector?.matchLabels)).toBe(true);
    expect(pdb.spec?.minAvailable).toBe(1);
  });

  it('the NetworkPolicy admits 8443 from every namespace and nothing else', () => {
    const spec = networkPolicySpec();
    expect(selectsServer(spec.podSelector?.matchLabels)).toBe(true);
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(spec.ingress).toEqual([
      { from: [{ namespaceSelector: {} }], ports: [{ port: 8443, protocol: 'TCP' }] },
    ]);
  });

  it('the NetworkPolicy lets the server reach only DNS, the API server and PostgreSQL', () => {
    const spec = networkPolicySpec();
    const ports = (spec.egress ?? []).flatMap((rule) =>
      (rule.ports ?? []).map((p) => `${p.port}/${p.protocol}`),
    );
    expect(ports.sort()).toEqual(['443/TCP', '53/TCP', '53/UDP', '5432/TCP', '6443/TCP']);
    // Every egress rule names its ports: none opens everything.
    for (const rule of spec.egress ?? []) expect(rule.ports?.length).toBeGreaterThan(0);
    const dns = spec.egress?.find((rule) => rule.ports?.some((p) => p.port === 53));
    expect(dns?.to?.[0]?.podSelector?.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
  });
});
