// CPU time of processes read from /proc/<pid>/stat, so the bench can charge each request's work
// to the process that did it (server, PostgreSQL, Kubernetes API stand-in, load generator).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** One process's line of /proc/<pid>/stat, in clock ticks (proc(5)). */
export interface ProcStat {
  pid: number;
  /** The executable's name (`comm`), e.g. `postgres`, `node`, `cfssl`. */
  comm: string;
  ppid: number;
  /** utime + stime: this process's own CPU, every thread included. */
  ownTicks: number;
  /** cutime + cstime: CPU of children it has waited for (exited backends, workers). */
  reapedTicks: number;
}

/** Every process on the machine at one instant, by pid. */
export type ProcSnapshot = ReadonlyMap<number, ProcStat>;

/**
 * Parses one /proc/<pid>/stat line. `comm` may hold spaces and parentheses, so the fields are
 * counted from the last `)` (proc(5): pid (comm) state ppid ... utime(14) stime cutime cstime).
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const rest = line
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number): number => Number(rest[n - 3]);
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: field(4),
    ownTicks: field(14) + field(15),
    reapedTicks: field(16) + field(17),
  };
}

/** Reads every /proc/<pid>/stat (processes that exit meanwhile are skipped). */
export function snapshotProcesses(): ProcSnapshot {
  const snapshot = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      snapshot.set(stat.pid, stat);
    } catch {
      // exited between readdir and read
    }
  }
  return snapshot;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot tell). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number(answer.stdout?.trim());
    ticksPerSecond = Number.isInteger(parsed) && parsed > 0 ? parsed : 100;
  }
  return ticksPerSecond;
}

/** `root` and every process whose parent chain leads to it. */
export function descendantsOf(snapshot: ProcSnapshot, root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const stat of snapshot.values()) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const found: ProcStat[] = [];
  const first = snapshot.get(root);
  const queue = first === undefined ? [] : [first];
  while (queue.length > 0) {
    const next = queue.shift() as ProcStat;
    found.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return found;
}

/** Something whose CPU the bench reports: a name and how to count its ticks in a snapshot. */
export interface CpuAccount {
  label: string;
  ticks(snapshot: ProcSnapshot): number;
}

/** The postmasters under `root`: `postgres` processes whose parent is not one. */
function postmastersUnder(snapshot: ProcSnapshot, root: number): ProcStat[] {
  return descendantsOf(snapshot, root).filter(
    (p) => p.comm === 'postgres' && snapshot.get(p.ppid)?.comm !== 'postgres',
  );
}

/**
 * A process and its descendants, except any PostgreSQL it started (counted by
 * {@link postgresAccount}); its reaped children count too (a worker that exited mid-run).
 */
export function serverAccount(label: string, root: number): CpuAccount {
  return {
    label,
    ticks(snapshot) {
      const postgres = new Set(
        postmastersUnder(snapshot, root).flatMap((pm) =>
          descendantsOf(snapshot, pm.pid).map((p) => p.pid),
        ),
      );
      const own = descendantsOf(snapshot, root).filter((p) => !postgres.has(p.pid));
      return (
        own.reduce((sum, p) => sum + p.ownTicks, 0) +
        (own.find((p) => p.pid === root)?.reapedTicks ?? 0)
      );
    },
  };
}

/**
 * The PostgreSQL a process started: every postmaster under `root`, all their backends and
 * auxiliary processes, and the backends that exited during the run (the postmaster reaps
 * them, so their CPU is in its cutime/cstime).
 */
export function postgresAccount(root: number): CpuAccount {
  return {
    label: 'postgres',
    ticks(snapshot) {
      return postmastersUnder(snapshot, root).reduce(
        (sum, pm) =>
          sum +
          pm.reapedTicks +
          descendantsOf(snapshot, pm.pid).reduce((s, p) => s + p.ownTicks, 0),
        0,
      );
    },
  };
}

/** One process (all its threads) and the children it reaped. */
export function processAccount(label: string, pid: number): CpuAccount {
  return {
    label,
    ticks(snapshot) {
      const stat = snapshot.get(pid);
      return stat === undefined ? 0 : stat.ownTicks + stat.reapedTicks;
    },
  };
}

/** Microseconds of CPU each account spent between two snapshots, per `requests`. */
export function cpuMicrosPerRequest(
  accounts: readonly CpuAccount[],
  before: ProcSnapshot,
  after: ProcSnapshot,
  requests: number,
): { label: string; micros: number }[] {
  const microsPerTick = 1_000_000 / clockTicksPerSecond();
  return accounts.map((account) => ({
    label: account.label,
    micros:
      ((account.ticks(after) - account.ticks(before)) * microsPerTick) / Math.max(1, requests),
  }));
}
