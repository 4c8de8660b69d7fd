// The cost of one HTTPS round trip that does no work, with both ends in one process: what each
// Kubernetes call of an attestation costs at least when the test Kubernetes API runs in-process.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { benchTls } from './bench-tls.js';

/** Round trips per second and CPU microseconds (both ends) per round trip. */
export interface HttpsFloor {
  perSecond: number;
  cpuMicros: number;
}

/** A pod-sized JSON answer, as `GET pod` returns (the test API's pods are about this size). */
const POD_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app-1', namespace: 'bench', uid: '5c1f7a4e-1b7c-4bb9-9a65-2f0e0b1d4c11' },
  spec: { serviceAccountName: 'app', nodeName: 'node-1' },
  status: { phase: 'Running' },
});

/**
 * 16 kept-alive clients (undici, as attestation uses) against a `node:https` server in this
 * process answering every GET with {@link POD_JSON}, for `durationMs` after a short warm-up.
 */
export async function measureHttpsFloor(durationMs: number): Promise<HttpsFloor> {
  const tls = benchTls('spiffe://bench.local/k8s-api');
  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(POD_JSON);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const pool = new Pool(`https://127.0.0.1:${port}`, {
    connections: 16,
    connect: { ca: tls.bundlePem },
  });
  let done = 0;
  const run = async (ms: number): Promise<void> => {
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
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
    const cpu = process.cpuUsage();
    await run(durationMs);
    const used = process.cpuUsage(cpu);
    return {
      perSecond: Math.round((done * 1000) / durationMs),
      cpuMicros: Math.round((used.user + used.system) / Math.max(1, done)),
    };
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
