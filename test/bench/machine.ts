// The machine a bench run measured: figures mean little without it, and this VM is shared.
import os from 'node:os';

/** What the bench prints about the machine and records in its JSON report. */
export interface Machine {
  cpuModel: string;
  /** Logical cores the OS reports, and how many this process may use. */
  cores: number;
  availableParallelism: number;
  memoryGb: number;
  node: string;
  openssl: string;
  kernel: string;
  /** 1-, 5- and 15-minute load averages. */
  loadAverage: [number, number, number];
}

/** The machine now (load averages as of this call). */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number],
  };
}

/** `load average 10.52 13.50 11.76 (1/5/15 min) on 2 cores`. */
export function formatLoad(machine: Machine): string {
  return `load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')} (1/5/15 min) on ${machine.cores} cores`;
}
