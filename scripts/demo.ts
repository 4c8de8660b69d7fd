// `npm run demo`: the whole story on 127.0.0.1 — a test Kubernetes API with one pod, the server
// on an embedded PostgreSQL, the sidecar proving the pod, and an app reading its secret through
// `hallmark exec` — narrated one line per step, cleaned up afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HallmarkClient } from '../src/client/index.js';
import { startTestKubernetesApi } from '../test/k8s-api/index.js';

const BIN = new URL('../bin/hallmark.js', import.meta.url).pathname;
const started = performance.now();
const children: ChildProcess[] = [];

function say(step: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${seconds}s] ${step}`);
}

function hallmark(
  args: string[],
  env: Record<string, string>,
  stdio: 'pipe' | 'inherit' = 'pipe',
): ChildProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('HALLMARK_') && k !== 'DATABASE_URL'),
  );
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', stdio, stdio],
  });
  children.push(child);
  return child;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function outputOf(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-demo-'));
await chmod(dir, 0o711); // when run as root, the embedded PostgreSQL's user must traverse it
const k8s = await startTestKubernetesApi();
let exitCode = 1;
try {
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfig, k8s.kubeconfig(), { mode: 0o600 });
  say(
    `test Kubernetes API on ${k8s.url} (enforces deploy/rbac.yaml: tokenreviews create, pods get)`,
  );

  const serverDir = path.join(dir, 'server');
  const server = hallmark(['server'], {
    HALLMARK_DATA_DIR: serverDir,
    HALLMARK_LISTEN: '127.0.0.1:0',
    HALLMARK_KUBECONFIG: kubeconfig,
    HALLMARK_LOG_LEVEL: 'warn',
  });
  const serverOutput = outputOf(server);
  const url = await waitFor(
    'the server',
    async () => /listening on (https:\/\/\S+)/.exec(serverOutput())?.[1],
  );
  const bundleFile = path.join(serverDir, 'bundle.pem');
  say(`server listening on ${url} with an embedded PostgreSQL in ${serverDir}/pg`);

  const adminKey = (await readFile(path.join(serverDir, 'admin.key'), 'utf8')).trim();
  let adminToken = '';
  const admin = new HallmarkClient({
    url,
    ca: await readFile(bundleFile, 'utf8'),
    token: () => adminToken,
  });
  adminToken = (await admin.loginWithApiKey('admin', adminKey)).token;
  const policy = await admin.putPolicy(
    'workloads:\n  - namespace: demo\n    serviceAccount: demo-app\ngrants:\n  - to: spiffe://hallmark.local/ns/demo/sa/demo-app\n    read: [demo/*]\n',
  );
  await admin.putSecret('demo/db-password', 'correct horse battery staple');
  await admin.close();
  say(
    `admin loaded policy v${policy.version} (registers demo/demo-app, grants read on demo/*) and stored demo/db-password`,
  );

  const pod = k8s.addPod({
    namespace: 'demo',
    name: 'demo-app-7f9c',
    serviceAccountName: 'demo-app',
    labels: { app: 'demo-app' },
  });
  const podDir = path.join(dir, 'pod');
  const runDir = path.join(podDir, 'run'); // stands for the emptyDir {medium: Memory} volume
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const tokenPath = path.join(podDir, 'hallmark-token');
  await writeFile(
    tokenPath,
    await k8s.issueToken({ namespace: 'demo', podName: 'demo-app-7f9c' }),
    { mode: 0o600 },
  );
  say(
    `pod demo/demo-app-7f9c (uid ${pod.metadata.uid}) started with a projected token (audience hallmark, 600 s)`,
  );

  const clientEnv = {
    HALLMARK_SERVER_URL: url,
    HALLMARK_SERVER_BUNDLE: bundleFile,
    HALLMARK_OUTPUT_DIR: runDir,
  };
  const endpointSocket = `unix://${path.join(runDir, 'agent.sock')}`;
  const sidecar = hallmark(['sidecar'], {
    ...clientEnv,
    HALLMARK_TOKEN_PATH: tokenPath,
    HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
    SPIFFE_ENDPOINT_SOCKET: endpointSocket,
  });
  const sidecarOutput = outputOf(sidecar);
  const sidecarStart = performance.now();
  await waitFor('the access token', async () =>
    (await stat(path.join(runDir, 'access-token'))).size > 0 ? true : undefined,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${sidecarOutput()}`);
  });
  const svid = new X509Certificate(await readFile(path.join(runDir, 'svid.pem'), 'utf8'));
  const token = (await readFile(path.join(runDir, 'access-token'), 'utf8')).trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    exp: number;
  };
  say(
    `sidecar attested the pod and wrote svid.pem, svid-key.pem, bundle.pem, access-token in ${((performance.now() - sidecarStart) / 1000).toFixed(1)} s: ` +
      `${svid.subjectAltName?.replace('URI:', '')}, SVID until ${new Date(svid.validTo).toISOString()}, token until ${new Date(claims.exp * 1000).toISOString()}`,
  );

  const app = hallmark(
    [
      'exec',
      '--secret',
      'DB_PASSWORD=demo/db-password',
      '--',
      process.execPath,
      '-e',
      'console.log(`connected with secret of length ${process.env.DB_PASSWORD.length}`)',
    ],
    clientEnv,
  );
  const appOutput = outputOf(app);
  const appCode = await new Promise<number | null>((resolve) => app.once('exit', resolve));
  say(`app (started through hallmark exec, exit ${appCode}): ${appOutput().trim()}`);
  if (appCode !== 0) throw new Error('the app did not start');

  const spiffeApp = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./workload-api-app.ts', import.meta.url).pathname],
    {
      env: { PATH: process.env['PATH'] ?? '', SPIFFE_ENDPOINT_SOCKET: endpointSocket },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(spiffeApp);
  const spiffeOutput = outputOf(spiffeApp);
  const spiffeCode = await new Promise<number | null>((resolve) => spiffeApp.once('exit', resolve));
  say(
    `second app, using only the SPIFFE Workload API (exit ${spiffeCode}): ${spiffeOutput().trim()}`,
  );
  if (spiffeCode !== 0) throw new Error('the Workload API app failed');

  const denied = hallmark(
    [
      'exec',
      '--secret',
      'X=billing/db-password',
      '--',
      process.execPath,
      '-e',
      'console.log("should not run")',
    ],
    clientEnv,
  );
  const deniedOutput = outputOf(denied);
  const deniedCode = await new Promise<number | null>((resolve) => denied.once('exit', resolve));
  say(
    `asking for billing/db-password instead: exit ${deniedCode}, ${deniedOutput().trim().split('\n')[0]}`,
  );

  const audit = hallmark(['audit', 'verify'], { HALLMARK_DATA_DIR: serverDir });
  const auditOutput = outputOf(audit);
  await new Promise((resolve) => audit.once('exit', resolve));
  say(auditOutput().trim());
  exitCode = 0;
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
} finally {
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  await k8s.close().catch((err: Error) => console.error(err.message));
  await rm(dir, { recursive: true, force: true });
  say(`cleaned up (processes stopped, ${dir} removed)`);
}
process.exitCode = exitCode;
