// A container's environment as the process will see it, for running Hallmark's config checks.
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

/** Values that stand in for `valueFrom` references (Secrets), by variable name. */
export type ReferenceValues = Readonly<Record<string, string>>;

/**
 * The environment Kubernetes gives `container`: its literal values, `valueFrom` references
 * replaced by `references` (a reference without one is an error), and the variables the
 * kubelet always adds (`KUBERNETES_SERVICE_HOST`, which turns on in-cluster configuration).
 */
export function containerEnv(
  container: V1Container,
  references: ReferenceValues = {},
): Record<string, string> {
  const env: Record<string, string> = {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
  };
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom !== undefined) {
      const value = references[variable.name];
      if (value === undefined) throw new Error(`no stand-in value for ${variable.name}`);
      env[variable.name] = value;
    }
  }
  if ((container.envFrom ?? []).length > 0) throw new Error('envFrom is not expected here');
  return env;
}

/** The container named `name` (init containers included). */
export function containerNamed(spec: V1PodSpec, name: string): V1Container {
  const found = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

/** Where in the pod the container sees `file`: the mount whose path contains it. */
export function mountFor(
  spec: V1PodSpec,
  container: V1Container,
  file: string,
): { mountPath: string; volume: NonNullable<V1PodSpec['volumes']>[number] } {
  const mount = (container.volumeMounts ?? [])
    .filter((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) throw new Error(`${file} is on no volume of container ${container.name}`);
  const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume) throw new Error(`volume ${mount.name} is not defined`);
  return { mountPath: mount.mountPath, volume };
}
