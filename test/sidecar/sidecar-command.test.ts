import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import type { CliIo } from '../../src/cli/command.js';
import { sidecarCommand } from '../../src/cli/sidecar-command.js';
import { startFakeHallmarkServer } from './fake-hallmark-server.js';
import type { FakeHallmarkServer } from './fake-hallmark-server.js';
import { createTestPki } from './test-pki.js';
import { waitFor } from './wait-for.js';

let fake: FakeHallmarkServer;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'hallmark-sidecar-cli-'));
  const pki = await createTestPki(systemClock);
  fake = await startFakeHallmarkServer(pki);
  await writeFile(path.join(root, 'ca.pem'), pki.bundlePem);
  await writeFile(path.join(root, 'token'), 'projected-token');
});

afterAll(async () => {
  await fake?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.behaviour = { kind: 'normal' };
  env = {
    HALLMARK_SERVER_URL: fake.url,
    HALLMARK_SERVER_BUNDLE: path.join(root, 'ca.pem'),
    HALLMARK_TOKEN_PATH: path.join(root, 'token'),
    HALLMARK_OUTPUT_DIR: await mkdtemp(path.join(root, 'out-')),
    HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
  };
});

function captureIo(
  environment: Record<string, string>,
): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    outLines,
    errLines,
    out: (line) => outLines.push(line),
    err: (line) => errLines.push(line),
    env: environment,
    stdin: new PassThrough(),
  };
}

describe('hallmark sidecar', () => {
  it('exits 2 with one line naming the bad variable', async () => {
    const io = captureIo({ ...env, HALLMARK_SERVER_URL: '' });
    expect(await sidecarCommand.run(['--once'], io)).toBe(2);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toMatch(
      /^hallmark sidecar: invalid configuration: HALLMARK_SERVER_URL: /,
    );

    const typo = captureIo({ ...env, HALLMARK_OUTPUT_DIRECTORY: '/x' });
    expect(await sidecarCommand.run([], typo)).toBe(2);
    expect(typo.errLines).toEqual([
      'hallmark sidecar: invalid configuration: HALLMARK_OUTPUT_DIRECTORY: unknown variable',
    ]);
  });

  it('exits 2 naming HALLMARK_SERVER_BUNDLE when there is nothing to trust the server with', async () => {
    const { HALLMARK_SERVER_BUNDLE: _unused, ...withoutBundle } = env;
    const io = captureIo(withoutBundle);
    expect(await sidecarCommand.run(['--once'], io)).toBe(2);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toContain('HALLMARK_SERVER_BUNDLE');
  });

  it('--once exits 0 once the four files are written; flags override the environment', async () => {
    const out = await mkdtemp(path.join(root, 'flag-out-'));
    const io = captureIo(env);
    expect(await sidecarCommand.run(['--once', '--output-dir', out], io)).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      'access-token',
      'bundle.pem',
      'svid-key.pem',
      'svid.pem',
    ]);
    expect(await readdir(env.HALLMARK_OUTPUT_DIR as string)).toEqual([]);
    // Log lines are JSON and never carry the token.
    const token = await readFile(path.join(out, 'access-token'), 'utf8');
    for (const line of io.outLines) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
      expect(line).not.toContain(token);
    }
  });

  it('--once exits 1 with one clear line naming the code when attestation is refused', async () => {
    fake.behaviour = {
      kind: 'error',
      status: 403,
      body: '{"error":{"code":"ERR_ATTEST_POD_NOT_FOUND","message":"pod not found"}}',
    };
    const io = captureIo(env);
    expect(await sidecarCommand.run(['--once'], io)).toBe(1);
    expect(io.errLines).toHaveLength(1);
    expect(io.errLines[0]).toMatch(/^hallmark sidecar: ERR_ATTEST_POD_NOT_FOUND: /);
  });

  it('refuses stray arguments', async () => {
    await expect(sidecarCommand.run(['extra'], captureIo(env))).rejects.toThrow(
      /unexpected argument/,
    );
  });

  it('runs until SIGTERM, then stops cleanly and leaves the files', async () => {
    const script = new URL('./sidecar-process.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      await waitFor('sidecar ready', () => stdout.includes('"phase":"ready"'), 30_000);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stdout).toContain('"phase":"stopped"');
    expect((await readdir(env.HALLMARK_OUTPUT_DIR as string)).sort()).toEqual([
      'access-token',
      'bundle.pem',
      'svid-key.pem',
      'svid.pem',
    ]);
  });
});
