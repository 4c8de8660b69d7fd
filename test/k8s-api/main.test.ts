// The test Kubernetes API as a CLI process: kubeconfig file, control endpoint, SIGTERM.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { PodAttestor, createKubernetesApi } from '../../src/attest/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HANG_GUARD_MS = 30_000;

interface Started {
  kubeconfig: string;
  caFile: string;
  url: string;
  controlUrl: string;
  controlToken: string;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  const running = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function withGuard<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang guard: ${what}`)), HANG_GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

async function startCli(): Promise<{ child: ChildProcess; info: Started; stderr: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-k8s-cli-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/k8s-api/main.ts', '--dir', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await withGuard(
    new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    }),
    'first stdout line',
  );
  return { child, info: JSON.parse(line) as Started, stderr: () => stderr };
}

function exited(child: ChildProcess): Promise<number | null> {
  return withGuard(
    new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    'process exit',
  );
}

async function control(info: Started, method: 'POST' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${info.controlUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${info.controlToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('test/k8s-api/main.ts', () => {
  it('serves attestation from another process and exits 0 on SIGTERM', async () => {
    const { child, info } = await startCli();
    expect(info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(info.kubeconfig).mode & 0o777).toBe(0o600);

    const pod = await control(info, 'POST', '/pods', {
      namespace: 'payments',
      name: 'api-0',
      serviceAccountName: 'api',
    });
    expect(pod.status).toBe(201);
    const minted = await control(info, 'POST', '/tokens', {
      namespace: 'payments',
      podName: 'api-0',
    });
    const attestor = new PodAttestor(
      createKubernetesApi({ kubeconfigPath: info.kubeconfig, timeoutMs: 5000 }),
      { audience: 'hallmark' },
    );
    const identity = await attestor.attest(minted.body.token as string);
    expect(identity).toMatchObject({
      namespace: 'payments',
      serviceAccount: 'api',
      podName: 'api-0',
    });

    expect((await control(info, 'DELETE', '/pods/payments/api-0')).status).toBe(200);
    await expect(attestor.attest(minted.body.token as string)).rejects.toMatchObject({
      code: 'ERR_ATTEST_TOKEN_INVALID',
    });

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('exits 1 on SIGTERM after a call outside deploy/rbac.yaml', async () => {
    const { child, info, stderr } = await startCli();
    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfig);
    await expect(
      kc.makeApiClient(CoreV1Api).readNamespace({ name: 'kube-system' }),
    ).rejects.toMatchObject({
      code: 403,
    });
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(1);
    expect(stderr()).toContain('GET /api/v1/namespaces/kube-system');
  });
});
