// The processes `npm run bench` starts: spawned on their own, waited for until ready, and
// stopped by their own pid (SIGTERM, then SIGKILL if they do not go).
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** A process the bench started. */
export interface BenchProcess<T> {
  /** What the process said when it was ready. */
  info: T;
  pid: number;
  /** Resolves to the exit code; kills after `graceMs` (default 20 s) if SIGTERM is not enough. */
  stop(graceMs?: number): Promise<number | null>;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves to the exit code. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/**
 * Runs `script` (beside this file, through tsx) with `args` in its own process and waits (at
 * most 180 s) for the one JSON line it prints when ready.
 */
export async function startJsonProcess<T>(
  script: string,
  args: string[] = [],
): Promise<BenchProcess<T>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const info = await new Promise<T>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within 180 s`));
    }, 180_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const complete = buffer.split('\n').slice(0, -1); // the last piece may be half a line
      const line = complete.find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume(); // anything it prints later is dropped, never buffered
        resolve(JSON.parse(line) as T);
      }
    });
  });
  return { info, pid: child.pid as number, stop: (graceMs) => stopChild(child, graceMs) };
}

/**
 * Polls `probe` every 50 ms until it returns a value (a probe that throws has no value yet);
 * throws after `timeoutMs`, or as soon as `gone()` says why there is no point waiting.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; gone?: () => string | undefined } = {},
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const reason = options.gone?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
