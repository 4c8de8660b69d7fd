// How the image and deploy/example start the sidecar — node's arguments and script from the
// Dockerfile's ENTRYPOINT and WORKDIR, its ENV, the sidecar container's args and the rest of its
// environment (NODE_OPTIONS, say) — read from the files, so that the bench runs what ships and
// cannot drift from it.
import path from 'node:path';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { SIDECAR_VARIABLES } from '../../sidecar/index.js';
import { parseYamlStream, readRepoFile } from './deploy-files.js';
import { argsOf, dockerfileStages, entrypointOf, envOf, workdirOf } from './dockerfile.js';
import type { Stage } from './dockerfile.js';

/** The manifest whose sidecar container the bench reproduces, and the container's name. */
export const SHIPPED_SIDECAR = Object.freeze({
  file: 'deploy/example/app/demo-app.yaml',
  container: 'hallmark-sidecar',
});

/** The sidecar's command line and environment, as the pod runs it. */
export interface ShippedSidecar {
  /** Node's options before the script (from the ENTRYPOINT). */
  readonly nodeArgs: readonly string[];
  /** The script, relative to the image's WORKDIR (`dist/src/cli/bin.js`). */
  readonly script: string;
  /** The container's args (`['sidecar']`). */
  readonly args: readonly string[];
  /**
   * The image's ENV, then the container's variables other than the sidecar's configuration
   * (which the bench points at its own server and directories).
   */
  readonly env: Readonly<Record<string, string>>;
}

/** The sidecar container of {@link SHIPPED_SIDECAR}'s Deployment. */
export function shippedSidecarContainer(): V1Container {
  const docs = parseYamlStream(readRepoFile(SHIPPED_SIDECAR.file), SHIPPED_SIDECAR.file);
  const containers = docs
    .map((doc) => doc.value as V1Deployment)
    .filter((object) => object.kind === 'Deployment')
    .flatMap((d) => [
      ...(d.spec?.template.spec?.initContainers ?? []),
      ...(d.spec?.template.spec?.containers ?? []),
    ])
    .filter((c) => c.name === SHIPPED_SIDECAR.container);
  if (containers.length !== 1) {
    throw new Error(`${SHIPPED_SIDECAR.file}: expected one container ${SHIPPED_SIDECAR.container}`);
  }
  return containers[0] as V1Container;
}

/**
 * Reads {@link ShippedSidecar} from deploy/Dockerfile and {@link SHIPPED_SIDECAR}.
 * @throws Error for what the bench could not reproduce: an ENTRYPOINT that is not `node …`, a
 *   container `command`, or a variable taken from a Secret or field (`valueFrom`).
 */
export function shippedSidecar(): ShippedSidecar {
  const image = dockerfileStages().at(-1) as Stage;
  const [node, ...rest] = entrypointOf(image);
  const scriptPath = rest.at(-1);
  if (node !== 'node' || scriptPath === undefined) {
    throw new Error(`ENTRYPOINT is not "node <script>": ${JSON.stringify(entrypointOf(image))}`);
  }
  const workdir = workdirOf(image) ?? '/';
  const container = shippedSidecarContainer();
  if (container.command !== undefined) throw new Error('the sidecar container sets command');
  const env: Record<string, string> = { ...envOf(image) };
  for (const variable of container.env ?? []) {
    if (SIDECAR_VARIABLES.includes(variable.name)) continue;
    if (variable.value === undefined) {
      throw new Error(`the sidecar's ${variable.name} is not a plain value`);
    }
    env[variable.name] = variable.value;
  }
  const cmd = argsOf(image, 'CMD').at(-1);
  return {
    nodeArgs: rest.slice(0, -1),
    script: path.posix.relative(workdir, path.posix.resolve(workdir, scriptPath)),
    args: container.args ?? (cmd === undefined ? [] : (JSON.parse(cmd) as string[])),
    env,
  };
}
