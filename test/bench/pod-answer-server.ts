// A process answering every HTTPS request with canned JSON and nothing else: the far end of the
// bench's Kubernetes-call rows (https-floor.ts, k8s-client-bench.ts). A TokenReview is answered
// authenticated, `GET .../pods/real-*` with a realistic pod, anything else with a small one.
// Prints one JSON line ({url, caPem}), serves on 127.0.0.1 until SIGTERM.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { benchTls } from './bench-tls.js';
import { realisticPodJson } from './realistic-pod.js';

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

const REAL_POD_JSON = realisticPodJson('bench', 'real-1');

/** An authenticated review of a pod-bound token, as the API server answers it. */
const TOKEN_REVIEW_JSON = JSON.stringify({
  kind: 'TokenReview',
  apiVersion: 'authentication.k8s.io/v1',
  metadata: { creationTimestamp: null },
  spec: { token: '<redacted>', audiences: ['hallmark'] },
  status: {
    authenticated: true,
    user: {
      username: 'system:serviceaccount:bench:app',
      uid: '2d0c3c39-4f8e-4b43-9c39-0f5f4b0a8e21',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:bench', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/credential-id': ['JTI=3f1c0b2a-8d7e-4c6b-9a5f-1e2d3c4b5a69'],
        'authentication.kubernetes.io/node-name': ['node-1'],
        'authentication.kubernetes.io/node-uid': ['7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'],
        'authentication.kubernetes.io/pod-name': ['app-1'],
        'authentication.kubernetes.io/pod-uid': ['5c1f7a4e-1b7c-4bb9-9a65-2f0e0b1d4c11'],
      },
    },
    audiences: ['hallmark'],
  },
});

function answerFor(method: string | undefined, path: string | undefined): string {
  if (method === 'POST' && path?.includes('/tokenreviews')) return TOKEN_REVIEW_JSON;
  return path?.includes('/pods/real-') ? REAL_POD_JSON : POD_JSON;
}

const tls = await benchTls('spiffe://bench.local/k8s-api');
const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
  request.resume();
  request.on('end', () => {
    const body = answerFor(request.method, request.url);
    response.writeHead(request.method === 'POST' ? 201 : 200, {
      'content-type': 'application/json',
    });
    response.end(body);
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
