// Hallmark as the bench measures it: `hallmark server` (bin/hallmark.js) in its own process, as
// an operator starts it, on its embedded PostgreSQL, attesting against the bench's Kubernetes
// API process; the bench then loads a policy and ten secrets through the admin API.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HallmarkClient } from '../../src/client/index.js';
import { stopChild, waitFor } from './bench-process.js';

/** The service account every bench pod runs as, and what it may read. */
export const BENCH_POLICY = `
workloads:
  - namespace: bench
    serviceAccount: app
grants:
  - to: spiffe://hallmark.local/ns/bench/sa/app
    read: [bench/*]
`;

/** The ten paths of the batch figure. */
export const BENCH_SECRET_PATHS = Array.from({ length: 10 }, (_, i) => `bench/secret-${i}`);

/** A running Hallmark server process. */
export interface HallmarkProcess {
  url: string;
  bundlePem: string;
  pid: number;
  /** Where its stdout and stderr go (its JSON log). */
  logFile: string;
  /** The variables it was started with, secrets left out (for the report). */
  settings: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts `hallmark server` with its data directory under `dir`, the shipped defaults (log level
 * `info` included: its log goes to a file, as a container runtime would take it) except the
 * limits that would refuse the load: the per-service-account rate (`HALLMARK_RATE_LIMIT`) and
 * the per-address pre-authentication limit (every bench client is 127.0.0.1), both lifted to
 * 1,000,000; then `extraEnv`. Waits for it, then loads {@link BENCH_POLICY} and the secrets.
 */
export async function startHallmark(options: {
  dir: string;
  kubeconfig: string;
  extraEnv: Record<string, string>;
  /** Node.js flags (`--cpu-prof`); the workers of a cluster inherit them. */
  nodeArgs?: readonly string[];
}): Promise<HallmarkProcess> {
  const dataDir = path.join(options.dir, 'server');
  await mkdir(dataDir, { recursive: true });
  // Run as root, the embedded PostgreSQL's own user must be able to traverse to its directory.
  await chmod(options.dir, 0o711);
  await chmod(dataDir, 0o711);
  const logFile = path.join(options.dir, 'server.log');
  const settings: Record<string, string> = {
    HALLMARK_DATA_DIR: dataDir,
    HALLMARK_LISTEN: '127.0.0.1:0',
    HALLMARK_KUBECONFIG: options.kubeconfig,
    HALLMARK_RATE_LIMIT: '1000000',
    HALLMARK_PREAUTH_RATE: '1000000',
    HALLMARK_PREAUTH_BURST: '1000000',
    ...options.extraEnv,
  };
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HALLMARK_') && k !== 'DATABASE_URL'),
  );
  const log = openSync(logFile, 'w', 0o600);
  const bin = new URL('../../bin/hallmark.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, 'server'], {
    env: { ...inherited, ...settings, HALLMARK_MASTER_KEY: randomBytes(32).toString('base64') },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  try {
    const url = await waitFor(
      'hallmark server',
      async () => /listening on (https:\/\/\S+)/.exec(await readFile(logFile, 'utf8'))?.[1],
      { gone: () => (child.exitCode === null ? undefined : `exited (${child.exitCode})`) },
    ).catch(async (err: Error) => {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).slice(-2000);
      throw new Error(`${err.message}\n${tail}`);
    });
    const bundlePem = await readFile(path.join(dataDir, 'bundle.pem'), 'utf8');
    const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    let token = '';
    const admin = new HallmarkClient({ url, ca: bundlePem, token: () => token });
    try {
      token = (await admin.loginWithApiKey('admin', adminKey)).token;
      await admin.putPolicy(BENCH_POLICY);
      for (const secretPath of BENCH_SECRET_PATHS)
        await admin.putSecret(secretPath, randomBytes(24).toString('base64'));
    } finally {
      await admin.close();
    }
    return {
      url,
      bundlePem,
      pid: child.pid as number,
      logFile,
      settings,
      stop: async () => {
        await stopChild(child, 30_000);
      },
    };
  } catch (err) {
    await stopChild(child, 30_000);
    throw err;
  }
}
