// Two `hallmark server` processes on one PostgreSQL database and one test Kubernetes API.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Database } from '../../src/db/index.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import {
  startServerProcess,
  writeKubeconfig,
  type ServerProcess,
} from '../faults/support/server-process.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';

/** The two replicas and what the test needs to drive and inspect them. */
export interface ReplicaPair {
  readonly k8s: TestKubernetesApi;
  readonly a: ServerProcess;
  readonly b: ServerProcess;
  /** The admin API key (created by whichever replica won the first start). */
  readonly adminKey: string;
  readonly databaseUrl: string;
  /** A handle of the test's own on the shared database, for inspection. */
  readonly db: Database;
  close(): Promise<void>;
}

/**
 * Starts both replicas at once (so they race for migrations, the first CA and the admin
 * key, as a Deployment's pods do) with the same master key and `extraEnv`.
 */
export async function startReplicaPair(
  extraEnv: Record<string, string> = {},
): Promise<ReplicaPair> {
  const k8s = await startTestKubernetesApi();
  const dirs = [await tempDataDir('hallmark-replica-'), await tempDataDir('hallmark-replica-')];
  const databaseUrl = await createEmptyDatabase();
  const env = {
    DATABASE_URL: databaseUrl,
    HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
    HALLMARK_KUBECONFIG: await writeKubeconfig(k8s, dirs[0] as string),
    HALLMARK_RATE_LIMIT: '1000000',
    ...LIFTED_PREAUTH_LIMITS,
    ...extraEnv,
  };
  const started = await Promise.allSettled(dirs.map((dir) => startServerProcess(dir, env)));
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const cleanup = async (): Promise<void> => {
    try {
      for (const server of running) await server.stop().catch(() => server.stop('SIGKILL'));
    } finally {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      await k8s.close(); // strict: rejects if either replica made a call outside deploy/rbac.yaml
    }
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined || running.length !== 2) {
    await cleanup().catch(() => undefined);
    throw (failed as PromiseRejectedResult).reason;
  }
  const [a, b] = running as [ServerProcess, ServerProcess];
  const keys = await Promise.all(
    dirs.map((dir) => readFile(path.join(dir, 'admin.key'), 'utf8').catch(() => undefined)),
  );
  const adminKey = keys.find((key) => key !== undefined)?.trim() ?? '';
  const db = new Database(databaseUrl, { max: 4 });
  return {
    k8s,
    a,
    b,
    adminKey,
    databaseUrl,
    db,
    async close() {
      await db.close();
      await cleanup();
    },
  };
}
