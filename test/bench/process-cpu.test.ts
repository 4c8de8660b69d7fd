// The bench's /proc accounting: which processes count as the server, as PostgreSQL, and how a
// stat line is read, on synthetic snapshots (no timing involved).
import { describe, expect, it } from 'vitest';
import {
  parseProcStat,
  postgresAccount,
  processAccount,
  serverAccount,
  type ProcSnapshot,
  type ProcStat,
} from './process-cpu.js';

/** A proc(5) stat line with the given fields; the rest are zeros. */
function statLine(pid: number, comm: string, ppid: number, ticks: number[]): string {
  const [utime, stime, cutime, cstime] = ticks;
  const fields = ['S', ppid, ...Array(9).fill(0), utime, stime, cutime, cstime, 20, 0, 1];
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

function snapshot(...stats: ProcStat[]): ProcSnapshot {
  return new Map(stats.map((s) => [s.pid, s]));
}

function proc(pid: number, comm: string, ppid: number, own: number, reaped = 0): ProcStat {
  return { pid, comm, ppid, ownTicks: own, reapedTicks: reaped };
}

describe('parseProcStat', () => {
  it('reads ppid, own and reaped ticks', () => {
    expect(parseProcStat(statLine(42, 'node', 7, [120, 30, 5, 2]))).toEqual({
      pid: 42,
      comm: 'node',
      ppid: 7,
      ownTicks: 150,
      reapedTicks: 7,
    });
  });

  it('counts fields from the last parenthesis, so a name with spaces and ) is read right', () => {
    const stat = parseProcStat(statLine(9, 'we (ird) name', 3, [1, 2, 3, 4]));
    expect(stat).toMatchObject({ comm: 'we (ird) name', ppid: 3, ownTicks: 3, reapedTicks: 7 });
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow();
  });
});

describe('CPU accounts', () => {
  // node server 100 -> postmaster 200 -> backends 201, 202; a worker 300 under the server;
  // an unrelated postgres 900 elsewhere.
  const machine = (backend: number, reaped: number): ProcSnapshot =>
    snapshot(
      proc(1, 'init', 0, 5),
      proc(100, 'node', 1, 1_000, 40),
      proc(200, 'postgres', 100, 10, reaped),
      proc(201, 'postgres', 200, backend),
      proc(202, 'postgres', 200, 30),
      proc(300, 'node', 100, 500),
      proc(900, 'postgres', 1, 7_777),
    );

  it('charges the server its own tree, its reaped children, and no PostgreSQL', () => {
    expect(serverAccount('server', 100).ticks(machine(20, 0))).toBe(1_000 + 40 + 500);
  });

  it('charges PostgreSQL the postmaster, its backends and the backends it reaped', () => {
    expect(postgresAccount(100).ticks(machine(20, 6))).toBe(10 + 20 + 30 + 6);
  });

  it('keeps a backend that exited mid-run counted, through its postmaster', () => {
    const before = machine(20, 0);
    const after = snapshot(
      ...[...machine(0, 25).values()].filter((p) => p.pid !== 201), // 201 exited, 25 ticks reaped
    );
    expect(postgresAccount(100).ticks(after) - postgresAccount(100).ticks(before)).toBe(5);
  });

  it('counts one process and what it reaped; nothing for a pid that is gone', () => {
    expect(processAccount('k8s-api', 100).ticks(machine(0, 0))).toBe(1_040);
    expect(processAccount('k8s-api', 12345).ticks(machine(0, 0))).toBe(0);
  });
});
