// What `kubectl apply -k` would send: each kustomization rendered and checked like the files.
import type { V1Deployment, V1PodSpec, V1Secret } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSidecarConfig } from '../../sidecar/index.js';
import { describeObject, type KubeObject } from './deploy-files.js';
import { OBJECTS } from './deploy-inventory.js';
import { schemaProblems } from './kube-schema.js';
import { kubectlAvailable, renderKustomizations } from './kustomize.js';
import { containerEnv, containerNamed } from './pod-env.js';
import { podConventionProblems } from './pod-conventions.js';
import { allContainers, podSecurityProblems, podTemplatesOf } from './pod-security.js';

const DIRS = ['.', 'example', 'example/once', 'secrets'] as const;
const IMAGE = 'registry.example.com/hallmark:0.1.0';

/**
 * kustomize folds long base64 Secret data over several lines. The API server decodes it
 * (Go's base64 skips newlines), but the schema's `byte` format does not allow them, so they
 * are taken out before the schema check.
 */
function unfoldSecretData(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) {
    return object;
  }
  const data = Object.entries(object.data as Record<string, string>).map(
    ([key, value]) => [key, value.replace(/\n/g, '')] as const,
  );
  return { ...object, data: Object.fromEntries(data) };
}

// kubectl ships on every machine image this project uses; elsewhere these render checks are
// skipped (and say so), while the file-level checks in manifests.test.ts still run.
describe.skipIf(!kubectlAvailable())('kubectl kustomize output', () => {
  let rendered: Map<string, KubeObject[]>;
  const objects = (dir: string): KubeObject[] => rendered.get(dir) ?? [];
  const podSpec = (dir: string, name: string): V1PodSpec => {
    const found = objects(dir).find((o) => o.kind === 'Deployment' && o.metadata?.name === name);
    if (!found) throw new Error(`no Deployment ${name} in deploy/${dir}`);
    return (found as unknown as V1Deployment).spec!.template.spec as V1PodSpec;
  };

  beforeAll(async () => {
    rendered = await renderKustomizations(DIRS);
  });

  it.each(DIRS)('deploy/%s renders objects that match their schemas', (dir) => {
    expect(objects(dir).length).toBeGreaterThan(0);
    for (const object of objects(dir)) {
      expect(schemaProblems(unfoldSecretData(object)), describeObject(object)).toEqual([]);
    }
  });

  it.each(DIRS)('deploy/%s keeps every pod restricted and wired for Hallmark', (dir) => {
    for (const object of objects(dir)) {
      for (const { where, template } of podTemplatesOf(object)) {
        const spec = template.spec as V1PodSpec;
        expect(podSecurityProblems(spec), where).toEqual([]);
        expect(podConventionProblems(spec, spec.serviceAccountName === 'hallmark'), where).toEqual(
          [],
        );
        for (const container of allContainers(spec)) expect(container.image).toBe(IMAGE);
      }
    }
  });

  it('the base renders exactly the objects of its files', () => {
    const names = (list: readonly KubeObject[]): string[] => list.map(describeObject).sort();
    const baseFiles = OBJECTS.filter((o) => !/^deploy\/(example|postgres|secrets)\//.test(o.file));
    expect(names(objects('.'))).toEqual(names(baseFiles.map((o) => o.object)));
  });

  it('deploy/secrets generates the two Secrets the server reads, under stable names', () => {
    const secrets = objects('secrets') as unknown as V1Secret[];
    expect(
      secrets.map((s) => [
        s.kind,
        s.metadata?.namespace,
        s.metadata?.name,
        Object.keys(s.data ?? {}),
      ]),
    ).toEqual([
      ['Secret', 'hallmark', 'hallmark-db', ['uri']],
      ['Secret', 'hallmark', 'hallmark-master-key', ['master.key']],
    ]);
    const server = containerNamed(podSpec('.', 'hallmark-server'), 'server');
    expect(server.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'hallmark-db',
      key: 'uri',
    });
    const keyVolume = podSpec('.', 'hallmark-server').volumes?.find((v) => v.secret);
    expect(keyVolume?.secret?.secretName).toBe('hallmark-master-key');
  });

  it('deploy/example runs the native sidecar', () => {
    const sidecar = containerNamed(podSpec('example', 'demo-app'), 'hallmark-sidecar');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.args).toEqual(['sidecar']);
  });

  it('deploy/example/once runs `hallmark sidecar --once` as a plain init container', () => {
    const spec = podSpec('example/once', 'demo-app');
    expect(spec.initContainers?.map((c) => c.name)).toEqual(['hallmark-init']);
    const init = containerNamed(spec, 'hallmark-init');
    expect(init.args).toEqual(['sidecar', '--once']);
    // Kubernetes refuses probes on an init container that is not a sidecar.
    expect(init.restartPolicy).toBeUndefined();
    expect([init.startupProbe, init.readinessProbe, init.livenessProbe, init.ports]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const config = loadSidecarConfig({ env: containerEnv(init), once: true });
    expect(config.outputDir).toBe('/run/hallmark');
    // Nothing serves the Workload API in this variant, so nobody is pointed at it.
    for (const container of allContainers(spec)) {
      expect(container.env?.map((e) => e.name)).not.toContain('SPIFFE_ENDPOINT_SOCKET');
    }
    // Same token, bundle and memory volumes as the sidecar variant.
    expect(spec.volumes).toEqual(podSpec('example', 'demo-app').volumes);
    expect(init.volumeMounts).toEqual(
      containerNamed(podSpec('example', 'demo-app'), 'hallmark-sidecar').volumeMounts,
    );
  });
});
