// Sidecar figures for `npm run bench`: time from process start to `access-token` written, and
// resident memory after it has run for a while.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** What the sidecar bench measured. */
export interface SidecarFigures {
  /** Process spawn → access-token file present (includes Node start-up). */
  startToTokenMs: number;
  /** Resident set size after `runMs`, from /proc. */
  rssMb: number;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.size > 0,
    () => false,
  );
}

/** Runs `hallmark sidecar` against a server for `runMs`, then stops it. */
export async function measureSidecar(options: {
  serverUrl: string;
  bundlePem: string;
  podToken: string;
  runMs: number;
}): Promise<SidecarFigures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-sidecar-'));
  await chmod(dir, 0o700);
  const bundle = path.join(dir, 'server-bundle.pem');
  const token = path.join(dir, 'token');
  const out = path.join(dir, 'run');
  await writeFile(bundle, options.bundlePem);
  await writeFile(token, options.podToken, { mode: 0o600 });
  const bin = new URL('../../bin/hallmark.js', import.meta.url).pathname;
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'sidecar'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HALLMARK_SERVER_URL: options.serverUrl,
      HALLMARK_SERVER_BUNDLE: bundle,
      HALLMARK_TOKEN_PATH: token,
      HALLMARK_OUTPUT_DIR: out,
      HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const deadline = started + 60_000;
    while (!(await exists(path.join(out, 'access-token')))) {
      if (performance.now() > deadline || child.exitCode !== null)
        throw new Error('sidecar wrote no access token');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const startToTokenMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, options.runMs));
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { startToTokenMs, rssMb: rssKb / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}
