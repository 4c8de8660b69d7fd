// The load generator process of `npm run bench`: receives a job over IPC, warms up, waits for
// `go`, runs autocannon (keep-alive HTTPS, closed loop, one request in flight per connection)
// and sends back what it measured. Started by load-generator.ts; exits on `exit` or when the
// bench goes away.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { FromGenerator, LoadJob, LoadResult, ToGenerator } from './load-generator.js';

function send(message: FromGenerator): void {
  process.send?.(message);
}

/** One autocannon run of `job`: timed, or `amount` requests; measured wall to wall. */
async function fire(
  job: LoadJob,
  seconds: number,
  amount: number | undefined,
): Promise<LoadResult> {
  let next = 0;
  const samples: string[] = [];
  const note = (text: string): void => {
    if (samples.length < 3) samples.push(text.slice(0, 240));
  };
  const started = performance.now();
  // Without a callback autocannon returns its event emitter, made thenable.
  const instance = autocannon({
    url: job.origin,
    connections: job.connections,
    pipelining: 1,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    // Check the stop timer often, so a run lasts its duration rather than the next whole second.
    sampleInt: 100,
    timeout: 30,
    tlsOptions: job.clientCert ?? {},
    requests: [
      {
        method: job.method,
        path: job.path,
        setupRequest: (request) => {
          const variant = job.variants[next++ % job.variants.length];
          return {
            ...request,
            headers: { ...request.headers, ...variant?.headers },
            body: variant?.body,
          };
        },
        onResponse: (status, body) => {
          if (status < 200 || status > 299) note(`${status} ${body}`);
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('reqError', (err: Error) => note(err.message));
  const result = await instance;
  const elapsed = (performance.now() - started) / 1000;
  const ok = result['2xx'];
  return {
    responses: result.requests.total,
    ok,
    errors: result.non2xx + result.errors + result.timeouts,
    seconds: elapsed,
    perSecond: ok / elapsed,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    samples,
  };
}

let job: LoadJob | undefined;
process.on('message', (message: ToGenerator) => {
  void (async () => {
    try {
      if (message.type === 'exit') {
        process.disconnect();
        return;
      }
      if (message.type === 'job') {
        job = message.job;
        if (job.warmupRequests > 0)
          await fire(job, 0, Math.max(job.warmupRequests, job.connections));
        send({ type: 'warm' });
        return;
      }
      if (job === undefined) throw new Error('go before job');
      const result = await fire(job, job.durationSeconds, job.amount);
      job = undefined;
      send({ type: 'result', result });
    } catch (err) {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  })();
});
// The bench went away (or said exit): nothing left to do.
process.on('disconnect', () => process.exit(0));
