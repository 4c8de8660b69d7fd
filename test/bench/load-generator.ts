// The bench's load generator as seen from the bench: autocannon running in a child process of its
// own (load-generator-process.ts), so its CPU is neither the server's nor the bench's, and is
// read from /proc like every other process's.
import { spawn, type ChildProcess } from 'node:child_process';

/** One request shape; the generator sends them round-robin, one per request. */
export interface LoadVariant {
  headers: Record<string, string>;
  body?: string;
}

/** What to send, where, how hard and for how long. */
export interface LoadJob {
  /** `https://127.0.0.1:<port>`. */
  origin: string;
  method: 'GET' | 'POST';
  path: string;
  /** Per-request headers and bodies (distinct CSRs, tokens), cycled by a counter shared by all connections. */
  variants: LoadVariant[];
  connections: number;
  /** A client certificate and key (PEM) to present on every connection (mutual TLS). */
  clientCert?: { cert: string; key: string };
  /**
   * Requests sent before the measured run and not counted (same connections): a number, not a
   * time, so the server's JIT is as warm on a busy machine as on an idle one; all are answered
   * before the measured run starts.
   */
  warmupRequests: number;
  /** Measured run length; ignored when `amount` is set. */
  durationSeconds: number;
  /** Send exactly this many requests (each variant once when it equals their number), then stop. */
  amount?: number;
}

/** What one measured run saw, from the generator's side. */
export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  /** 2xx responses. */
  ok: number;
  /** Non-2xx responses, connection errors and timeouts. */
  errors: number;
  /** Wall time of the measured run, first connection to last response. */
  seconds: number;
  /** 2xx responses per second. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The first few unexpected answers or connection errors, for diagnosis. */
  samples: string[];
}

/** Messages between the bench and the generator process. */
export type ToGenerator = { type: 'job'; job: LoadJob } | { type: 'go' } | { type: 'exit' };
export type FromGenerator =
  { type: 'warm' } | { type: 'result'; result: LoadResult } | { type: 'failed'; message: string };

/** A running generator process. */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts the generator process (`node --import tsx load-generator-process.ts`). */
  static start(): LoadGenerator {
    const script = new URL('./load-generator-process.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new LoadGenerator(child);
  }

  /** The generator's pid, for its CPU account. */
  get pid(): number {
    return this.child.pid as number;
  }

  private next(): Promise<FromGenerator> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`load generator exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (message: FromGenerator) => {
        this.child.off('exit', onExit);
        resolve(message);
      });
    });
  }

  private async expect<T extends FromGenerator['type']>(
    type: T,
  ): Promise<Extract<FromGenerator, { type: T }>> {
    const message = await this.next();
    if (message.type === 'failed') throw new Error(`load generator: ${message.message}`);
    if (message.type !== type) throw new Error(`load generator said ${message.type}, not ${type}`);
    return message as Extract<FromGenerator, { type: T }>;
  }

  /**
   * Runs `job`: the warm-up first, then `beforeRun()` (the bench reads /proc), the measured run,
   * and returns its result; the bench reads /proc again as soon as this resolves.
   */
  async run(job: LoadJob, beforeRun: () => void): Promise<LoadResult> {
    this.child.send({ type: 'job', job } satisfies ToGenerator);
    await this.expect('warm');
    beforeRun();
    this.child.send({ type: 'go' } satisfies ToGenerator);
    return (await this.expect('result')).result;
  }

  /** Stops the generator process. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies ToGenerator);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
