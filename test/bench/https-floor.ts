// What one Kubernetes call costs at least: an HTTPS GET round trip through undici's `request()`
// on a kept-alive pool to a process that only answers with a pod-sized body (attestation's
// adapter dispatches to such a pool without request()'s response stream, a little less). The
// client side runs in the bench's own process, whose CPU is what Hallmark would pay.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { startJsonProcess } from './bench-process.js';
import type { PodAnswerServerInfo } from './pod-answer-server.js';
import { processAccount, snapshotProcesses, cpuMicrosPerRequest } from './process-cpu.js';

/** Round trips per second, and CPU microseconds per round trip at each end. */
export interface HttpsFloor {
  perSecond: number;
  clientCpuMicros: number;
  serverCpuMicros: number;
}

/**
 * `connections` kept-alive clients against the answering process for `durationMs`, after a
 * warm-up of a quarter of that (at most 1 s).
 */
export async function measureHttpsFloor(
  durationMs: number,
  connections: number,
): Promise<HttpsFloor> {
  const server = await startJsonProcess<PodAnswerServerInfo>('./pod-answer-server.ts');
  const pool = new Pool(server.info.url, { connections, connect: { ca: server.info.caPem } });
  let done = 0;
  const run = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const answer = await pool.request({
            path: '/api/v1/namespaces/bench/pods/app-1',
            method: 'GET',
            headers: { authorization: 'Bearer bench' },
          });
          await answer.body.text();
          done += 1;
        }
      }),
    );
  };
  try {
    await run(Math.min(1000, durationMs / 4));
    done = 0;
    const before = snapshotProcesses();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await run(durationMs);
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const [far] = cpuMicrosPerRequest(
      [processAccount('server', server.pid)],
      before,
      snapshotProcesses(),
      done,
    );
    return {
      perSecond: (done * 1000) / elapsed,
      clientCpuMicros: (used.user + used.system) / Math.max(1, done),
      serverCpuMicros: far?.micros ?? 0,
    };
  } finally {
    await pool.close();
    await server.stop();
  }
}
