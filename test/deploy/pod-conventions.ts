// Pod conventions that keep Hallmark's pods running, beyond Pod Security: env, tokens, resources.
import type { V1PodSpec } from '@kubernetes/client-node';
import { allContainers } from './pod-security.js';

/**
 * Problems with how the pod is wired for Hallmark. Empty when none.
 * - `enableServiceLinks: false`: a Service named `hallmark` (or `hallmark-*`) in the namespace
 *   would inject `HALLMARK_SERVICE_HOST`, `HALLMARK_PORT`, ... and `hallmark` refuses unknown
 *   `HALLMARK_*` variables at start, so the pod would crash-loop.
 * - `automountServiceAccountToken` as `apiToken` says: only the server needs its API token.
 * - Requests for CPU and memory and a memory limit on every container.
 * - A writable emptyDir at /tmp in every container: the root filesystem is read-only, and /tmp
 *   is where programs expect to write temporary files (os.tmpdir()). Hallmark's compiled code
 *   writes none, but an app started by `hallmark exec`, a library or an operator's diagnostics
 *   may.
 */
export function podConventionProblems(spec: V1PodSpec, apiToken: boolean): string[] {
  const problems: string[] = [];
  if (spec.enableServiceLinks !== false) problems.push('pod: enableServiceLinks must be false');
  if (spec.automountServiceAccountToken !== apiToken) {
    problems.push(`pod: automountServiceAccountToken must be ${apiToken}`);
  }
  const emptyDirs = new Set(
    (spec.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name),
  );
  for (const container of allContainers(spec)) {
    const at = `container ${container.name}`;
    const resources = container.resources;
    for (const name of ['cpu', 'memory']) {
      if (resources?.requests?.[name] === undefined) problems.push(`${at}: no ${name} request`);
    }
    if (resources?.limits?.memory === undefined) problems.push(`${at}: no memory limit`);
    const tmp = (container.volumeMounts ?? []).find((mount) => mount.mountPath === '/tmp');
    if (!tmp || !emptyDirs.has(tmp.name) || tmp.readOnly === true) {
      problems.push(`${at}: needs a writable emptyDir at /tmp`);
    }
  }
  return problems;
}
