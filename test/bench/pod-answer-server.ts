// A process answering every HTTPS request with one pod-sized JSON body and nothing else: the
// far end of the bench's Kubernetes-call floor (https-floor.ts). Prints one JSON line
// ({url, caPem}), serves on 127.0.0.1 until SIGTERM.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { benchTls } from './bench-tls.js';

/** What the bench learns from this process. */
export interface PodAnswerServerInfo {
  url: string;
  caPem: string;
}

/** A pod-sized JSON answer, as `GET pod` returns (the test API's pods are about this size). */
const POD_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app-1', namespace: 'bench', uid: '5c1f7a4e-1b7c-4bb9-9a65-2f0e0b1d4c11' },
  spec: { serviceAccountName: 'app', nodeName: 'node-1' },
  status: { phase: 'Running' },
});

const tls = benchTls('spiffe://bench.local/k8s-api');
const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(POD_JSON);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const info: PodAnswerServerInfo = { url: `https://127.0.0.1:${port}`, caPem: tls.bundlePem };
  process.stdout.write(`${JSON.stringify(info)}\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
