// End-to-end fixture: the real server and test Kubernetes API (test/helpers/hallmark-stack.ts),
// a registered pod with a projected token on disk, and sidecars run in-process against them.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSidecar } from '../../sidecar/index.js';
import type {
  PhaseChange,
  RefreshAttempt,
  SidecarConfig,
  SidecarHandle,
} from '../../sidecar/index.js';
import type { Clock } from '../../src/clock/index.js';
import { startStack } from '../helpers/hallmark-stack.js';
import type { HallmarkStack } from '../helpers/hallmark-stack.js';
import { MemoryLogger } from './fakes.js';

/** The workload every end-to-end test runs as. */
export const WORKLOAD = Object.freeze({
  namespace: 'payments',
  pod: 'api-7d4f9',
  serviceAccount: 'api',
  spiffeId: 'spiffe://hallmark.local/ns/payments/sa/api',
});

/** Registers the workload, lets it read `payments/*`, and lets the admin key write secrets. */
export const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
groups:
  admins: [key:admin]
grants:
  - to: ${WORKLOAD.spiffeId}
    read: [payments/*]
  - to: admins
    read: ['*']
    write: ['*']
`;

/** A sidecar started in-process, with everything it reported. */
export interface RunningSidecar {
  readonly handle: SidecarHandle;
  readonly log: MemoryLogger;
  readonly changes: PhaseChange[];
  readonly attempts: RefreshAttempt[];
}

/** The fixture. */
export interface SidecarStack {
  readonly stack: HallmarkStack;
  /** Temp directory holding the token file and output directories. */
  readonly dir: string;
  readonly tokenPath: string;
  /** Sidecar configuration against the server (output in `<dir>/out`). */
  readonly config: SidecarConfig;
  /** Mints a projected token for the pod and writes it where the kubelet would. */
  writeProjectedToken(expirationSeconds?: number): Promise<void>;
  startSidecar(overrides?: Partial<SidecarConfig>): Promise<RunningSidecar>;
  close(): Promise<void>;
}

/**
 * Starts the server (with `env` server settings, e.g. short TTLs; `caTicker: false` stops
 * scheduled CA rotation; optionally its own clock) and registers the pod.
 */
export async function startSidecarStack(
  env: Record<string, string> = {},
  options: { caTicker?: boolean; clock?: Clock } = {},
): Promise<SidecarStack> {
  const stack = await startStack({
    env,
    policy: POLICY,
    caTicker: options.caTicker,
    clock: options.clock,
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-sidecar-e2e-'));
  stack.k8s.addPod({
    namespace: WORKLOAD.namespace,
    name: WORKLOAD.pod,
    serviceAccountName: WORKLOAD.serviceAccount,
    labels: { app: 'api' },
  });
  const tokenPath = path.join(dir, 'hallmark-token');
  const sidecars: SidecarHandle[] = [];
  const writeProjectedToken = async (expirationSeconds = 600): Promise<void> => {
    const token = await stack.k8s.issueToken({
      namespace: WORKLOAD.namespace,
      podName: WORKLOAD.pod,
      expirationSeconds,
    });
    // The kubelet swaps the file atomically; so do we (write + rename).
    await writeFile(`${tokenPath}.new`, token);
    await rename(`${tokenPath}.new`, tokenPath);
  };
  await writeProjectedToken();
  const config: SidecarConfig = Object.freeze({
    serverUrl: stack.server.url,
    serverBundlePath: stack.server.bundleFile,
    tokenPath,
    outputDir: path.join(dir, 'out'),
    healthListen: Object.freeze({ host: '127.0.0.1', port: 0 }),
    keyType: 'ec-p256',
    onceTimeoutMs: 30_000,
    once: false,
  });
  return {
    stack,
    dir,
    tokenPath,
    config,
    writeProjectedToken,
    async startSidecar(overrides = {}) {
      const log = new MemoryLogger();
      const handle = await startSidecar({ ...config, ...overrides }, { log });
      sidecars.push(handle);
      const changes: PhaseChange[] = [];
      const attempts: RefreshAttempt[] = [];
      handle.onPhaseChange((change) => changes.push(change));
      handle.onAttempt((attempt) => attempts.push(attempt));
      return { handle, log, changes, attempts };
    },
    async close() {
      await Promise.all(sidecars.map((s) => s.stop()));
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
