// Pod security: the Pod Security "restricted" settings every Hallmark pod must spell out.
import type { V1Container, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { KubeObject } from './manifest-documents.js';

/** A pod template found in an object, with a name for messages. */
export interface PodTemplate {
  readonly where: string;
  readonly template: V1PodTemplateSpec;
}

/** Volume types the restricted profile allows (no hostPath, no network volumes). */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The pod templates of workload objects (only Deployments exist in deploy/ today). */
export function podTemplatesOf(object: KubeObject): PodTemplate[] {
  const name = `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
  const spec = object.spec as { template?: V1PodTemplateSpec } | undefined;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(object.kind)) {
    return spec?.template ? [{ where: name, template: spec.template }] : [];
  }
  if (object.kind === 'Pod') return [{ where: name, template: object as V1PodTemplateSpec }];
  return [];
}

/** Every container of a pod: init (sidecars included), regular and ephemeral. */
export function allContainers(spec: V1PodSpec): V1Container[] {
  return [
    ...(spec.initContainers ?? []),
    ...spec.containers,
    ...((spec.ephemeralContainers ?? []) as V1Container[]),
  ];
}

function isNonZeroId(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function podLevelProblems(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  const sc = spec.securityContext;
  if (sc?.runAsNonRoot !== true) problems.push('pod: securityContext.runAsNonRoot must be true');
  if (!isNonZeroId(sc?.runAsUser)) problems.push('pod: securityContext.runAsUser must be > 0');
  if (!isNonZeroId(sc?.runAsGroup)) problems.push('pod: securityContext.runAsGroup must be > 0');
  if (sc?.fsGroup !== undefined && !isNonZeroId(sc.fsGroup)) {
    problems.push('pod: securityContext.fsGroup must be > 0');
  }
  if ((sc?.supplementalGroups ?? []).some((group) => !isNonZeroId(group))) {
    problems.push('pod: securityContext.supplementalGroups must not contain 0');
  }
  if (sc?.seccompProfile?.type !== 'RuntimeDefault') {
    problems.push('pod: securityContext.seccompProfile.type must be RuntimeDefault');
  }
  if ((sc?.sysctls ?? []).length > 0) problems.push('pod: securityContext.sysctls must be empty');
  if (spec.hostNetwork === true) problems.push('pod: hostNetwork must not be true');
  if (spec.hostPID === true) problems.push('pod: hostPID must not be true');
  if (spec.hostIPC === true) problems.push('pod: hostIPC must not be true');
  for (const volume of spec.volumes ?? []) {
    const types = Object.keys(volume).filter((key) => key !== 'name');
    for (const type of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(type)) {
        problems.push(`pod: volume ${volume.name} of type ${type} is not allowed`);
      }
    }
  }
  return problems;
}

function containerProblems(container: V1Container, pod: V1PodSpec): string[] {
  const at = `container ${container.name}`;
  const sc = container.securityContext;
  const problems: string[] = [];
  if (sc?.readOnlyRootFilesystem !== true) {
    problems.push(`${at}: securityContext.readOnlyRootFilesystem must be true`);
  }
  if (sc?.allowPrivilegeEscalation !== false) {
    problems.push(`${at}: securityContext.allowPrivilegeEscalation must be false`);
  }
  if (sc?.privileged === true) problems.push(`${at}: securityContext.privileged must not be true`);
  if (!(sc?.capabilities?.drop ?? []).includes('ALL')) {
    problems.push(`${at}: securityContext.capabilities.drop must include ALL`);
  }
  if ((sc?.capabilities?.add ?? []).length > 0) {
    problems.push(`${at}: securityContext.capabilities.add must be empty`);
  }
  // The rest may be inherited from the pod; what counts is the effective value.
  if ((sc?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) {
    problems.push(`${at}: runAsNonRoot must be true`);
  }
  if (!isNonZeroId(sc?.runAsUser ?? pod.securityContext?.runAsUser)) {
    problems.push(`${at}: runAsUser must be > 0`);
  }
  if (!isNonZeroId(sc?.runAsGroup ?? pod.securityContext?.runAsGroup)) {
    problems.push(`${at}: runAsGroup must be > 0`);
  }
  const seccomp = sc?.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault') problems.push(`${at}: seccompProfile must be RuntimeDefault`);
  if (sc?.procMount !== undefined && sc.procMount !== 'Default') {
    problems.push(`${at}: procMount must be Default`);
  }
  if ((container.ports ?? []).some((port) => port.hostPort !== undefined)) {
    problems.push(`${at}: hostPort must not be used`);
  }
  return problems;
}

/**
 * Every way the pod spec falls short of Pod Security "restricted" as Hallmark spells it out:
 * pod-level non-root uid and gid and RuntimeDefault seccomp; for every container (init and
 * sidecar containers included) a read-only root filesystem, no privilege escalation, all
 * capabilities dropped; no host namespaces, host ports or host volumes. Empty when compliant.
 */
export function podSecurityProblems(spec: V1PodSpec): string[] {
  return [
    ...podLevelProblems(spec),
    ...allContainers(spec).flatMap((container) => containerProblems(container, spec)),
  ];
}
