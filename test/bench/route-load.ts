// A route under load, measured: the load generator runs a job while /proc is read before and
// after, and the result becomes a row with each process's CPU per request.
import type { BenchOptions, RowName } from './bench-options.js';
import type { BenchReport, CpuShare, Row } from './bench-report.js';
import type { LoadGenerator, LoadJob, LoadResult } from './load-generator.js';
import {
  cpuMicrosPerRequest,
  processAccount,
  snapshotProcesses,
  type CpuAccount,
  type ProcSnapshot,
} from './process-cpu.js';

/** What every step of the bench shares. */
export interface BenchContext {
  options: BenchOptions;
  report: BenchReport;
  /** The raw signing rate of this run (ops/s), which every rate is divided by. */
  rawSignRate: number;
  /** The load generator process (started on first use). */
  generator(): LoadGenerator;
}

/** A load run's result and the CPU each process spent per response. */
export interface MeasuredLoad {
  result: LoadResult;
  cpu: CpuShare[];
}

/**
 * Warm-up requests and seconds of measured load for a route; with --quick no warm-up and a
 * fixed number of requests instead of a time (8 per connection), so a smoke run ends with
 * answers however slow the machine is.
 */
export function routeTiming(
  options: BenchOptions,
  full: { warmupRequests: number; seconds: number },
): Pick<LoadJob, 'warmupRequests' | 'durationSeconds' | 'amount'> {
  return options.quick
    ? { warmupRequests: 0, durationSeconds: 0, amount: options.connections * 8 }
    : { warmupRequests: full.warmupRequests, durationSeconds: full.seconds };
}

/**
 * Runs `job` on the generator and charges the CPU that `accounts` (and the generator itself)
 * spent between just before and just after the measured run to its responses.
 */
export async function measureLoad(
  generator: LoadGenerator,
  job: LoadJob,
  accounts: readonly CpuAccount[],
): Promise<MeasuredLoad> {
  let before: ProcSnapshot = new Map();
  const result = await generator.run(job, () => {
    before = snapshotProcesses();
  });
  const after = snapshotProcesses();
  const cpu = cpuMicrosPerRequest(
    [...accounts, processAccount('load generator', generator.pid)],
    before,
    after,
    result.responses,
  );
  return { result, cpu };
}

/** The row of a measured route: rate, latency, ratio to raw sign, errors, CPU per process. */
export function loadRow(
  context: BenchContext,
  key: RowName,
  name: string,
  measured: MeasuredLoad,
  target: string,
): Row {
  const { result, cpu } = measured;
  const notes = result.samples.length > 0 ? [`first errors: ${result.samples.join(' | ')}`] : [];
  if (result.responses === 0) notes.push('no answer within the run: no CPU per request');
  return context.report.add({
    key,
    name,
    value: result.perSecond,
    unit: 'req/s',
    target,
    ratio: result.perSecond / context.rawSignRate,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    cpu: result.responses === 0 ? undefined : cpu,
    notes,
  });
}

/** The CPU share called `label`, in µs per request (0 when absent). */
export function share(cpu: readonly CpuShare[], label: string): number {
  return cpu.find((c) => c.label === label)?.micros ?? 0;
}
