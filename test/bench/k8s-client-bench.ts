// What attestation's two Kubernetes calls cost Hallmark: a TokenReview and a `GET pod` through
// the client-node adapter (src/attest), in the bench's own process, against a process that only
// answers; the kubeconfig names its CA by file, as the in-cluster configuration does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createKubernetesApi } from '../../src/attest/index.js';
import { startJsonProcess } from './bench-process.js';
import type { PodAnswerServerInfo } from './pod-answer-server.js';

/** Attestations before each measured run. */
const WARM_UP = 2_000;

/** Attestations (both calls) per second and the client's CPU per attestation. */
export interface KubernetesClientFigure {
  /** `stand-in` (the test API's small pod) or `realistic` (a 7 KB pod of a Deployment). */
  pod: 'stand-in' | 'realistic';
  perSecond: number;
  clientCpuMicros: number;
}

function kubeconfig(url: string, caFile: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server: url, 'certificate-authority': caFile } }],
    users: [{ name: 'hallmark', user: { token: 'bench-service-account-token' } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'hallmark' } }],
    'current-context': 'bench',
  });
}

/** `connections` attestations in flight for `durationMs` per pod size, after a warm-up. */
export async function measureKubernetesClient(
  durationMs: number,
  connections: number,
): Promise<KubernetesClientFigure[]> {
  const server = await startJsonProcess<PodAnswerServerInfo>('./pod-answer-server.ts');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-k8s-'));
  try {
    const caFile = path.join(dir, 'ca.crt');
    await writeFile(caFile, server.info.caPem);
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server.info.url, caFile));
    const figures: KubernetesClientFigure[] = [];
    for (const [pod, podName] of [
      ['stand-in', 'app-1'],
      ['realistic', 'real-1'],
    ] as const) {
      const api = createKubernetesApi({ kubeconfigPath, timeoutMs: 5_000 });
      let done = 0;
      // Until `ms` passed, or `count` attestations were made (the warm-up: a number, not a
      // time, so the JIT is as warm on a busy machine as on an idle one).
      const run = async (ms: number, count = Infinity): Promise<void> => {
        const end = performance.now() + ms;
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < end && done < count) {
              const review = await api.reviewToken('bench-pod-token', ['hallmark']);
              const found = await api.getPod('bench', podName);
              if (review.authenticated !== true || found?.spec?.serviceAccountName !== 'app')
                throw new Error('unexpected answer from the stand-in');
              done += 1;
            }
          }),
        );
      };
      await run(60_000, WARM_UP);
      done = 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run(durationMs);
      const elapsed = performance.now() - started;
      const used = process.cpuUsage(cpu);
      figures.push({
        pod,
        perSecond: (done * 1000) / elapsed,
        clientCpuMicros: (used.user + used.system) / Math.max(1, done),
      });
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await server.stop();
  }
}
