// A closed-loop load generator on undici: N clients, each sending its next request when the
// previous one answers, for a fixed time; reports throughput and latency percentiles.
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';

/** One request of the load: method, path, headers and body for iteration `i`. */
export interface LoadRequest {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What a load run measured. */
export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** First few unexpected statuses, for diagnosis. */
  samples: string[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Runs `concurrency` clients against `dispatcher` for `durationMs` (after a `warmupMs` whose
 * requests are not counted). Bounded by time: it always stops.
 */
export async function runLoad(options: {
  dispatcher: Dispatcher;
  origin: string;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  expectStatus?: number;
  request: (i: number) => LoadRequest;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const samples: string[] = [];
  const warmupEnd = performance.now() + (options.warmupMs ?? 0);
  const end = warmupEnd + options.durationMs;
  const expected = options.expectStatus ?? 200;

  async function client(): Promise<void> {
    while (performance.now() < end) {
      const spec = options.request(counter++);
      const started = performance.now();
      try {
        const response = await options.dispatcher.request({
          origin: options.origin,
          method: spec.method,
          path: spec.path,
          headers: spec.headers,
          body: spec.body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        const text = await response.body.text();
        if (response.statusCode !== expected) {
          errors += 1;
          if (samples.length < 3) samples.push(`${response.statusCode} ${text.slice(0, 200)}`);
        }
      } catch (err) {
        errors += 1;
        if (samples.length < 3) samples.push((err as Error).message);
      }
      const finished = performance.now();
      if (started >= warmupEnd) latencies.push(finished - started);
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, () => client()));
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    perSecond: latencies.length / (options.durationMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    samples,
  };
}
