// The processes a dead postmaster left behind on its data directory, ended as PostgreSQL ends them.
import { readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';

/** What {@link endOrphans} found and did. */
export interface OrphanReport {
  /** Processes of the dead postmaster still running when it looked. */
  readonly found: number;
  /** Of those, the ones that ignored SIGQUIT for the grace period and were killed. */
  readonly killed: number;
}

/** How long orphans get after SIGQUIT: PostgreSQL's own SIGKILL_CHILDREN_AFTER_SECS. */
export const ORPHAN_GRACE_MS = 5_000;

/**
 * Processes running the `postgres` binary whose working directory is `clusterDir`: every
 * process of a cluster (postmaster, backends, checkpointer, ...) runs in its data directory.
 * Linux only (it reads /proc); elsewhere none are found and PostgreSQL's own start-up check
 * (it refuses while old processes hold the shared memory) is the only guard.
 */
export async function findOrphans(clusterDir: string): Promise<number[]> {
  let entries: string[];
  let dir: string;
  try {
    entries = await readdir('/proc');
    dir = await realpath(clusterDir);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [cwd, exe] = await Promise.all([
        readlink(`/proc/${entry}/cwd`),
        readlink(`/proc/${entry}/exe`),
      ]);
      if (cwd === dir && path.basename(exe) === 'postgres') found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to inspect (then not ours to signal either).
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Those of `pids` still running. An orphan that exited stays a zombie until whoever adopted it
 * reaps it (which may be never, when PID 1 does not reap), but a zombie has no working
 * directory and no memory, so it no longer holds the cluster's shared memory.
 */
async function running(pids: number[]): Promise<number[]> {
  const checks = await Promise.all(
    pids.map((pid) =>
      readlink(`/proc/${pid}/cwd`).then(
        () => true,
        () => false,
      ),
    ),
  );
  return pids.filter((_, i) => checks[i]);
}

/** Waits up to about `ms` for `pids` to exit; returns those still running. */
async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const stepMs = 50;
  let left = await running(pids);
  for (let waited = 0; left.length > 0 && waited < ms; waited += stepMs) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    left = await running(left);
  }
  return left;
}

/**
 * Ends what a dead postmaster left running on `clusterDir`, the way the postmaster ends its
 * children when one of them crashes: SIGQUIT (exit at once, no cleanup), then SIGKILL for any
 * still there after {@link ORPHAN_GRACE_MS}. Until they are gone they hold the cluster's
 * shared memory and PostgreSQL refuses to start; a backend deep in a long query would hold it
 * until the query ends. Call only once the postmaster is known dead: a live one's children
 * match too. Nothing committed is lost: a commit is in the WAL before it is acknowledged.
 */
export async function endOrphans(
  clusterDir: string,
  graceMs = ORPHAN_GRACE_MS,
): Promise<OrphanReport> {
  const orphans = await findOrphans(clusterDir);
  for (const pid of orphans) signal(pid, 'SIGQUIT');
  const stubborn = await waitGone(orphans, graceMs);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  await waitGone(stubborn, 1_000);
  return { found: orphans.length, killed: stubborn.length };
}
