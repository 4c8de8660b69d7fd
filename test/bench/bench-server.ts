// The server side of `npm run bench`: one process running the Hallmark server on a fresh
// embedded PostgreSQL plus the test Kubernetes API in-process (as docs/performance.md's budgets assume).
// Prints one JSON line describing how to reach it, then serves until SIGTERM.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKubernetesApi } from '../../src/attest/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { startServer } from '../../src/server/index.js';
import { startTestKubernetesApi } from '../k8s-api/index.js';

/** What the bench process learns from this one. */
export interface BenchServerInfo {
  url: string;
  bundlePem: string;
  adminKey: string;
  /** Projected-style tokens of registered pods (valid 10 minutes). */
  podTokens: string[];
  /** Secret paths the bench workload may read (10, for the batch figure). */
  secretPaths: string[];
}

const PODS = 32;
const POLICY = `
workloads:
  - namespace: bench
    serviceAccount: app
grants:
  - to: spiffe://hallmark.local/ns/bench/sa/app
    read: [bench/*]
  - to: key:admin
    read: ["*"]
    write: ["*"]
`;

const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-'));
await chmod(dir, 0o711);
const k8s = await startTestKubernetesApi({ recordAll: false });
const config = loadServerConfig({
  env: {
    HALLMARK_DATA_DIR: path.join(dir, 'data'),
    HALLMARK_LISTEN: '127.0.0.1:0',
    HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
    HALLMARK_LOG_LEVEL: 'silent',
    HALLMARK_RATE_LIMIT: '1000000',
    // The load clients all share 127.0.0.1: lift the per-address pre-authentication limit.
    HALLMARK_PREAUTH_RATE: '1000000',
    HALLMARK_PREAUTH_BURST: '1000000',
  },
});
const server = await startServer(config, {
  kubernetes: createKubernetesApi({ kubeconfigYaml: k8s.kubeconfig(), timeoutMs: 5_000 }),
});
await server.policy.load(POLICY, 'bench');
const podTokens: string[] = [];
for (let i = 0; i < PODS; i++) {
  k8s.addPod({ namespace: 'bench', name: `app-${i}`, serviceAccountName: 'app' });
  podTokens.push(await k8s.issueToken({ namespace: 'bench', podName: `app-${i}` }));
}
const secretPaths = Array.from({ length: 10 }, (_, i) => `bench/secret-${i}`);
for (const secretPath of secretPaths)
  await server.secrets.put(secretPath, randomBytes(24).toString('base64'), 'bench');
const info: BenchServerInfo = {
  url: server.url,
  bundlePem: server.ca.bundle().certificatesPem.join(''),
  adminKey: server.admin.created ? server.admin.key : '',
  podTokens,
  secretPaths,
};
process.stdout.write(`${JSON.stringify(info)}\n`);

const stop = async (): Promise<void> => {
  await server.close();
  await k8s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
