// Runs the real `hallmark` CLI in a child process and watches its output (bounded waits only).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const BIN = new URL('../../bin/hallmark.js', import.meta.url).pathname;

/** A started CLI process with its collected output. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout match of `pattern`, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (rejects after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Environment for a child: the parent's, minus any HALLMARK_* and DATABASE_URL, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HALLMARK_') && key !== 'DATABASE_URL') clean[key] = value;
  }
  return { ...clean, ...env };
}

/** Starts `hallmark <args>`. */
export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  const exited = (timeoutMs = 30_000): Promise<number | null> =>
    Promise.race([
      exit,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`process did not exit within ${timeoutMs} ms\n${out}\n${err}`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          const match = out.match(pattern);
          if (match) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve(match);
          } else if (child.exitCode !== null) {
            clearInterval(poll);
            clearTimeout(deadline);
            reject(
              new Error(
                `process exited (${child.exitCode}) before ${pattern}\nstdout:\n${out}\nstderr:\n${err}`,
              ),
            );
          }
        }, 50);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited();
    },
  };
}

/** Runs `hallmark <args>` to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  cli.child.stdin?.end();
  const code = await cli.exited(timeoutMs);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A temp directory the embedded PostgreSQL user can traverse when tests run as root. */
export async function tempDataDir(prefix = 'hallmark-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o711);
  return dir;
}
