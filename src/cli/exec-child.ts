// Running the wrapped command: inherited stdio, forwarded signals, its exit status as ours.
import { spawn } from 'node:child_process';
import os from 'node:os';

/** Signals `hallmark exec` passes on to the command (the ones orchestrators and terminals send). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** How the command ended, or why it could not start. */
export type ChildOutcome =
  | { started: true; exitCode: number }
  | { started: false; exitCode: number; error: NodeJS.ErrnoException };

/**
 * The shell's convention for a status: the exit code, or 128 + the signal number when the
 * command was killed by a signal (POSIX.1-2017 XCU §2.8.2).
 */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : os.constants.signals[signal];
  return 128 + (number ?? 0);
}

/**
 * Starts `command` with `env` and the parent's stdin/stdout/stderr, forwards
 * {@link FORWARDED_SIGNALS} while it runs (so a pod's SIGTERM reaches the app, which may shut
 * down gracefully), and resolves with its exit status. A command that cannot be started
 * resolves with 127 (not found) or 126 (not executable), as shells do.
 */
export function runChild(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: 'inherit', env: { ...env } });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    const handlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = (): void => forward(signal);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const cleanup = (): void => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      resolve({ started: false, exitCode: error.code === 'ENOENT' ? 127 : 126, error });
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve({ started: true, exitCode: exitStatus(code, signal) });
    });
  });
}
