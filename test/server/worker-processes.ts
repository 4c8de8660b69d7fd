// What the worker tests look at from outside: the server's worker processes and its gathered metrics.
import { snapshotProcesses } from '../bench/process-cpu.js';

/** The node processes `primary` forked (its workers): esbuild and PostgreSQL are not. */
export function workerPids(primary: number): number[] {
  return [...snapshotProcesses().values()]
    .filter((p) => p.ppid === primary && p.comm === 'node')
    .map((p) => p.pid);
}

/** True while `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The value of a metric line `name{labels}` in Prometheus text, 0 when absent. */
export function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
