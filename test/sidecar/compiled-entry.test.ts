// The compiled `hallmark` as the image runs it (dist/src/cli/bin.js with production
// dependencies only): every command loads, and the sidecar obtains credentials and serves the
// Workload API from the compiled tree (its .proto copied beside it by the build).
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { systemClock } from '../../src/clock/index.js';
import { buildCompiledApp } from './compiled-app.js';
import type { CompiledApp } from './compiled-app.js';
import { startFakeHallmarkServer } from './fake-hallmark-server.js';
import type { FakeHallmarkServer } from './fake-hallmark-server.js';
import { createTestPki } from './test-pki.js';
import { waitFor } from './wait-for.js';
import { WorkloadApiClient } from './workload-api-client.js';

let app: CompiledApp | undefined;
let fake: FakeHallmarkServer | undefined;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'hallmark-compiled-'));
  const pki = await createTestPki(systemClock);
  fake = await startFakeHallmarkServer(pki);
  await writeFile(path.join(root, 'ca.pem'), pki.bundlePem);
  await writeFile(path.join(root, 'token'), 'projected-token');
  env = {
    PATH: process.env.PATH ?? '',
    HALLMARK_SERVER_URL: fake.url,
    HALLMARK_SERVER_BUNDLE: path.join(root, 'ca.pem'),
    HALLMARK_TOKEN_PATH: path.join(root, 'token'),
    HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
  };
  // tsc over the whole production tree: seconds, more on a busy machine.
  app = await buildCompiledApp();
}, 180_000);

afterAll(async () => {
  await fake?.close();
  await app?.remove();
  await rm(root, { recursive: true, force: true });
});

/** A `node <compiled entry> ...args` process and what it printed. */
function run(
  args: string[],
  extraEnv: Record<string, string> = {},
): {
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  running: () => boolean;
  kill: (signal: NodeJS.Signals) => void;
} {
  const child = spawn(process.execPath, [(app as CompiledApp).entry, ...args], {
    cwd: (app as CompiledApp).root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(limit));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => child.kill(signal),
  };
}

describe('compiled hallmark (dist/src/cli/bin.js, production dependencies only)', () => {
  it('prints the command list, and every command loads and prints its usage', async () => {
    const help = run(['--help']);
    expect(await help.exited).toBe(0);
    for (const command of COMMANDS) expect(help.stdout()).toContain(`  ${command.name} `);
    for (const command of COMMANDS) {
      const usage = run([command.name, '--help']);
      expect(await usage.exited, usage.stderr()).toBe(0);
      expect(usage.stdout()).toMatch(new RegExp(`^usage: hallmark ${command.name}\\b`));
    }
  });

  it('sidecar --once writes the four files and exits 0', async () => {
    const out = await mkdtemp(path.join(root, 'once-'));
    const once = run(['sidecar', '--once'], { HALLMARK_OUTPUT_DIR: out });
    expect(await once.exited, once.stderr()).toBe(0);
    expect(once.stderr()).toContain(`credentials written to ${out}`);
    expect((await readdir(out)).sort()).toEqual([
      'access-token',
      'bundle.pem',
      'svid-key.pem',
      'svid.pem',
    ]);
  });

  it('the long-running sidecar serves the Workload API on its default socket until SIGTERM', async () => {
    const out = await mkdtemp(path.join(root, 'serve-'));
    const socket = path.join(out, 'agent.sock');
    const sidecar = run(['sidecar'], { HALLMARK_OUTPUT_DIR: out });
    const client = new WorkloadApiClient(`unix://${socket}`);
    try {
      await waitFor('access-token and socket', async () => {
        if (!sidecar.running()) throw new Error(`sidecar exited: ${sidecar.stderr()}`);
        const names = await readdir(out).catch((): string[] => []);
        return names.includes('access-token') && names.includes('agent.sock');
      });
      const message = await client.fetchX509Svid().message(1);
      const svid = message.svids[0];
      expect(svid?.spiffe_id).toBe(fake?.spiffeId);
      const leaf = new X509Certificate(svid?.x509_svid ?? Buffer.alloc(0));
      const written = new X509Certificate(await readFile(path.join(out, 'svid.pem')));
      expect(leaf.fingerprint256).toBe(written.fingerprint256);
    } finally {
      client.close();
      sidecar.kill('SIGTERM');
    }
    expect(await sidecar.exited, sidecar.stderr()).toBe(0);
    expect(sidecar.stdout()).toContain('"phase":"stopped"');
    await expect(stat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
