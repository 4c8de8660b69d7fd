// `node bin/hallmark.js exec` as a real process against a real HTTPS server: env, exit codes, signals, refusals.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, UsageError, type CliIo } from '../../src/cli/command.js';
import { execCommand } from '../../src/cli/exec-command.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { HallmarkApp } from '../../src/http/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { buildSecretApp } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls } from '../secrets/helpers/test-tls.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { MemorySecretStore } from '../doubles/memory-secret-store.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/hallmark.js');
const PRINT_ENV = path.join(ROOT, 'test/fixtures/apps/print-env.js');
const WAIT = path.join(ROOT, 'test/fixtures/apps/wait-for-signal.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('hallmark exec', () => {
  let app: HallmarkApp;
  let dir: string;
  let env: Record<string, string>;
  const running = new Set<ChildProcess>();
  const audit = new MemoryAuditLog(systemClock);

  /** Starts `hallmark exec ARGS`; killed in afterAll if a test left it running. */
  const start = (args: string[], extraEnv: Record<string, string> = {}): ChildProcess => {
    const child = spawn(process.execPath, [BIN, 'exec', ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    return child;
  };
  const finish = (child: ChildProcess): Promise<Finished> =>
    new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  const run = (args: string[], extraEnv?: Record<string, string>) => finish(start(args, extraEnv));
  const untilLine = (child: ChildProcess, line: string): Promise<void> =>
    new Promise((resolve, reject) => {
      let seen = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.split('\n').includes(line)) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before printing "${line}": ${seen}`)));
    });

  beforeAll(async () => {
    const tls = makeTestTls();
    const store = new MemorySecretStore({
      master: new MasterKey(randomBytes(32)),
      clock: systemClock,
    });
    app = await buildSecretApp({ tls, store, audit });
    await app.listen({ host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-exec-'));
    await writeFile(path.join(dir, 'access-token'), 'api-token\n');
    await writeFile(path.join(dir, 'bundle.pem'), tls.caPem);
    await writeFile(path.join(dir, 'worker-token'), 'worker-token\n');
    await store.put(parseSecretPath('payments/db-password'), 'p@ss w0rd with spaces', 'key:admin');
    await store.put(parseSecretPath('payments/api/key'), 'line one\nline two', 'key:admin');
    await store.put(parseSecretPath('payments/nul'), 'a\u0000b', 'key:admin');
    await store.put(parseSecretPath('billing/db-password'), 'billing-value', 'key:admin');
    // Only what exec needs, plus PATH and one inherited variable to show the env is kept.
    env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HALLMARK_SERVER_URL: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      HALLMARK_OUTPUT_DIR: dir,
      INHERITED: 'kept',
    };
  });

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the command with the secrets and the inherited environment', async () => {
    const result = await run([
      '--secret',
      'DB_PASSWORD=payments/db-password',
      '--secret',
      'API_KEY=payments/api/key',
      '--secret',
      'SAME_AGAIN=payments/db-password',
      '--',
      process.execPath,
      PRINT_ENV,
      'DB_PASSWORD',
      'API_KEY',
      'SAME_AGAIN',
      'INHERITED',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      DB_PASSWORD: 'p@ss w0rd with spaces',
      API_KEY: 'line one\nline two',
      SAME_AGAIN: 'p@ss w0rd with spaces',
      INHERITED: 'kept',
    });
    // One batch for the three variables: one audit row, two distinct paths.
    expect(audit.records.at(-1)).toMatchObject({
      action: 'secret.read',
      target: 'payments/db-password@v1,payments/api/key@v1',
    });
  });

  it('reads a summon-style secrets file next to --secret flags', async () => {
    const file = path.join(dir, 'secrets.yml');
    await writeFile(file, 'DB_PASSWORD: payments/db-password\nAPI_KEY: !var payments/api/key\n');
    const result = await run([
      '--secrets-file',
      file,
      '--secret',
      'X=payments/db-password',
      '--',
      process.execPath,
      PRINT_ENV,
      'DB_PASSWORD',
      'API_KEY',
      'X',
    ]);
    expect(JSON.parse(result.stdout)).toEqual({
      DB_PASSWORD: 'p@ss w0rd with spaces',
      API_KEY: 'line one\nline two',
      X: 'p@ss w0rd with spaces',
    });
  });

  it("exits with the command's exit code", async () => {
    const result = await run([
      '--secret',
      'A=payments/db-password',
      '--',
      process.execPath,
      PRINT_ENV,
      'A',
      '--exit',
      '7',
    ]);
    expect(result.code).toBe(7);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'forwards %s to the command and exits with its code',
    async (signal) => {
      const child = start(['--secret', 'A=payments/db-password', '--', process.execPath, WAIT]);
      const done = finish(child);
      await untilLine(child, 'ready');
      child.kill(signal);
      const result = await done;
      expect(result.stdout).toBe(`ready\ngot ${signal}\n`);
      expect(result.code).toBe(42);
    },
  );

  it('exits 128+N when the command is killed by signal N', async () => {
    const child = start([
      '--secret',
      'A=payments/db-password',
      '--',
      process.execPath,
      WAIT,
      '--die',
    ]);
    const done = finish(child);
    await untilLine(child, 'ready');
    child.kill('SIGHUP');
    const result = await done;
    expect(result.stdout).toContain('got SIGHUP');
    expect(result.code).toBe(128 + os.constants.signals.SIGHUP);
  });

  it('refuses to start the command when one secret is denied, naming it and the code', async () => {
    const result = await run([
      '--secret',
      'DB_PASSWORD=payments/db-password',
      '--secret',
      'BILLING=billing/db-password',
      '--',
      process.execPath,
      PRINT_ENV,
      'DB_PASSWORD',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^hallmark exec: cannot fetch BILLING \(billing\/db-password\): ERR_POLICY_DENIED: /,
    );
    expect(result.stderr).not.toContain('p@ss');
  });

  it('refuses to start the command when a secret is missing or the token is not accepted', async () => {
    const missing = await run([
      '--secret',
      'M=payments/missing',
      '--',
      process.execPath,
      PRINT_ENV,
    ]);
    expect([missing.code, missing.stdout]).toEqual([1, '']);
    expect(missing.stderr).toMatch(/cannot fetch M \(payments\/missing\): ERR_SECRET_NOT_FOUND/);
    const denied = await run([
      '--token-file',
      path.join(dir, 'worker-token'),
      '--secret',
      'A=payments/db-password',
      '--',
      process.execPath,
      PRINT_ENV,
    ]);
    expect(denied.stderr).toMatch(/cannot fetch A \(payments\/db-password\): ERR_POLICY_DENIED/);
    const noToken = await run(
      ['--secret', 'A=payments/db-password', '--', process.execPath, PRINT_ENV],
      { HALLMARK_ACCESS_TOKEN_FILE: path.join(dir, 'absent') },
    );
    expect([noToken.code, noToken.stdout]).toEqual([1, '']);
    expect(noToken.stderr).toMatch(
      /^hallmark exec: cannot fetch secrets for A: ERR_CLIENT_TOKEN_UNAVAILABLE: /,
    );
  });

  it('refuses a value an environment variable cannot hold', async () => {
    const result = await run([
      '--secret',
      'N=payments/nul',
      '--',
      process.execPath,
      PRINT_ENV,
      'N',
    ]);
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toMatch(/cannot pass N \(payments\/nul\): the value contains a NUL/);
  });

  it('reports a command that does not exist with 127', async () => {
    const result = await run([
      '--secret',
      'A=payments/db-password',
      '--',
      path.join(dir, 'no-such-program'),
    ]);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/cannot start .*ENOENT/);
  });

  it('refuses bad usage before contacting the server (in-process)', async () => {
    const before = audit.records.length;
    const errors: string[] = [];
    const io: CliIo = {
      out: () => undefined,
      err: (line) => errors.push(line),
      env,
      stdin: process.stdin,
    };
    for (const args of [
      ['--secret', 'A=payments/db-password', process.execPath],
      ['--secret', '1BAD=payments/db-password', '--', process.execPath],
      ['--secret', 'A=../etc/passwd', '--', process.execPath],
      ['--secret', 'A=x', '--secret', 'A=y', '--', process.execPath],
      ['--secret', 'A', '--', process.execPath],
      ['stray', '--secret', 'A=x', '--', process.execPath],
      ['--', process.execPath],
      ['--secret', 'A=x', '--'],
    ]) {
      await expect(execCommand.run(args, io)).rejects.toBeInstanceOf(UsageError);
    }
    const noServer = { ...io, env: { ...env, HALLMARK_SERVER_URL: '' } };
    expect(await execCommand.run(['--secret', 'A=x', '--', 'true'], noServer)).toBe(EXIT.usage);
    expect(errors.at(-1)).toMatch(/HALLMARK_SERVER_URL: required/);
    const typo = { ...io, env: { ...env, HALLMARK_SERVR_URL: 'x' } };
    expect(await execCommand.run(['--secret', 'A=x', '--', 'true'], typo)).toBe(EXIT.usage);
    expect(errors.at(-1)).toMatch(/HALLMARK_SERVR_URL: unknown variable/);
    expect(audit.records.length).toBe(before);
  });
});
