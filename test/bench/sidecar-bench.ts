// Sidecar figures for `npm run bench`: time from process start to `access-token` written, and
// resident memory after it has run for a while — of the sidecar as shipped: the compiled tree
// (built fresh, production dependencies only) started as deploy/Dockerfile and the example's
// sidecar container start it, Node options included.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { shippedSidecar } from '../deploy/shipped-sidecar.js';
import { buildCompiledApp } from '../sidecar/compiled-app.js';

/** What the sidecar bench measured. */
export interface SidecarFigures {
  /** Process spawn → access-token file present (includes Node start-up); median of the starts. */
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

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

/**
 * Starts `hallmark sidecar` `starts` times (default 5), each with a fresh output directory, and
 * times each to its access token; the last one then runs for `runMs` and its RSS is read.
 */
export async function measureSidecar(options: {
  serverUrl: string;
  bundlePem: string;
  podToken: string;
  runMs: number;
  starts?: number;
}): Promise<SidecarFigures> {
  const shipped = shippedSidecar();
  const app = await buildCompiledApp();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-sidecar-'));
  const children: ChildProcess[] = [];
  try {
    await chmod(dir, 0o700);
    const bundle = path.join(dir, 'server-bundle.pem');
    const token = path.join(dir, 'token');
    await writeFile(bundle, options.bundlePem);
    await writeFile(token, options.podToken, { mode: 0o600 });
    const samples: number[] = [];
    let child: ChildProcess | undefined;
    const starts = options.starts ?? 5;
    for (let start = 0; start < starts; start++) {
      if (child) await stop(child);
      const out = path.join(dir, `run-${start}`);
      const started = performance.now();
      child = spawn(
        process.execPath,
        [...shipped.nodeArgs, path.join(app.root, shipped.script), ...shipped.args],
        {
          cwd: app.root,
          env: {
            PATH: process.env['PATH'] ?? '',
            ...shipped.env,
            HALLMARK_SERVER_URL: options.serverUrl,
            HALLMARK_SERVER_BUNDLE: bundle,
            HALLMARK_TOKEN_PATH: token,
            HALLMARK_OUTPUT_DIR: out,
            HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      children.push(child);
      const deadline = started + 60_000;
      while (!(await exists(path.join(out, 'access-token')))) {
        if (child.exitCode !== null)
          throw new Error(`sidecar exited (${child.exitCode}) before writing an access token`);
        if (performance.now() > deadline)
          throw new Error('sidecar wrote no access token within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      samples.push(performance.now() - started);
    }
    await new Promise((resolve) => setTimeout(resolve, options.runMs));
    const status = await readFile(`/proc/${child?.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    const sorted = [...samples].sort((a, b) => a - b);
    return { startToTokenMs: sorted[Math.floor(sorted.length / 2)] as number, rssMb: rssKb / 1024 };
  } finally {
    await Promise.all(children.map(stop));
    await rm(dir, { recursive: true, force: true });
    await app.remove();
  }
}
