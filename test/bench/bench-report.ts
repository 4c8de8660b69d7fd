// What `npm run bench` prints, one row per figure (with the CPU each process spent per request
// under it), and the JSON report it writes to bench-results/latest.json.
import { mkdir, writeFile } from 'node:fs/promises';
import type { Machine } from './machine.js';

/** CPU microseconds one process (or group of processes) spent per request. */
export interface CpuShare {
  label: string;
  micros: number;
}

/** One printed figure. */
export interface Row {
  /** The `--only` name of the step that measured it. */
  key: string;
  name: string;
  value: number;
  unit: string;
  target: string;
  /** value / raw signing rate, when the figure is a rate. */
  ratio?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  cpu?: CpuShare[];
  /** A line printed under the row (diagnostics, a derived figure). */
  notes?: string[];
}

/** `1,234` (no decimals), `7.5` under 10, `0.17` under 1. */
export function figure(value: number): string {
  const size = Math.abs(value);
  const digits = value === 0 || size >= 10 ? 0 : size >= 1 ? 1 : 2;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `server 1,520 · postgres 360 · k8s-api 610 · load generator 190`. */
export function formatCpu(cpu: readonly CpuShare[]): string {
  return cpu.map((share) => `${share.label} ${figure(share.micros)}`).join(' · ');
}

function latency(row: Row): string {
  if (row.p50Ms === undefined) return '';
  return `  p50 ${figure(row.p50Ms)} ms  p99 ${figure(row.p99Ms ?? 0)} ms`;
}

/** Collects rows as they are measured and prints each at once. */
export class BenchReport {
  readonly rows: Row[] = [];

  /** Prints `row` (and its CPU line and notes) and keeps it for the JSON report. */
  add(row: Row): Row {
    const ratio = row.ratio === undefined ? '' : `  ${(row.ratio * 100).toFixed(1)}% of raw sign`;
    const errors = row.errors ? `  ERRORS ${figure(row.errors)}` : '';
    console.log(
      `${row.name.padEnd(44)} ${figure(row.value).padStart(8)} ${row.unit.padEnd(8)}${latency(row)}${ratio}${errors}   (${row.target})`,
    );
    if (row.cpu !== undefined) console.log(`    CPU µs per request: ${formatCpu(row.cpu)}`);
    for (const note of row.notes ?? []) console.log(`    ${note}`);
    this.rows.push(row);
    return row;
  }

  /** A line that is not a figure (a skipped step, a heading). */
  say(text: string): void {
    console.log(text);
  }

  /** Writes bench-results/latest.json: the machine before and after, the options, every row. */
  async write(report: {
    quick: boolean;
    options: Record<string, unknown>;
    machineAtStart: Machine;
    machineAtEnd: Machine;
  }): Promise<string> {
    await mkdir('bench-results', { recursive: true });
    const file = 'bench-results/latest.json';
    const body = { date: new Date().toISOString(), ...report, rows: this.rows };
    await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
    return file;
  }
}
