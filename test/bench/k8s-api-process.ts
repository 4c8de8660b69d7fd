// The bench's Kubernetes API: the test Kubernetes API (RBAC from deploy/, real TokenReview and
// GET pod answers) in a process of its own, so its CPU is not charged to Hallmark.
// `node --import tsx k8s-api-process.ts --dir D --pods N --storm-pods M` registers N pods
// `bench/app-<i>` and M pods `bench/storm-<i>` (service account `app`), writes D/kubeconfig.yaml
// and D/tokens.json ({"steady": [...], "storm": [...]}, one projected token per pod), prints
// one JSON line, and serves until SIGTERM; exits 1 if Hallmark made a call outside the RBAC.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestKubernetesApi } from '../k8s-api/index.js';

/** The JSON line this process prints when it is ready. */
export interface K8sApiProcessInfo {
  url: string;
  kubeconfig: string;
  tokensFile: string;
}

/** The contents of `tokens.json`. */
export interface BenchPodTokens {
  steady: string[];
  storm: string[];
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    pods: { type: 'string', default: '512' },
    'storm-pods': { type: 'string', default: '2000' },
  },
});
if (values.dir === undefined) throw new Error('--dir is required');

// Records only refused calls: a long run would otherwise keep every request in memory.
const api = await startTestKubernetesApi({ recordAll: false });

/** Registers `count` running pods named `<prefix>-<i>` and mints a token bound to each. */
async function pods(prefix: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${i}`;
    api.addPod({ namespace: 'bench', name, serviceAccountName: 'app' });
    // An hour, so a long run never meets an expired token (a projected volume's default is 1 h).
    tokens.push(
      await api.issueToken({ namespace: 'bench', podName: name, expirationSeconds: 3600 }),
    );
  }
  return tokens;
}

const tokens: BenchPodTokens = {
  steady: await pods('app', Number(values.pods)),
  storm: await pods('storm', Number(values['storm-pods'])),
};
const kubeconfig = join(values.dir, 'kubeconfig.yaml');
const tokensFile = join(values.dir, 'tokens.json');
writeFileSync(kubeconfig, api.kubeconfig(), { mode: 0o600 });
writeFileSync(tokensFile, JSON.stringify(tokens), { mode: 0o600 });
const info: K8sApiProcessInfo = { url: api.url, kubeconfig, tokensFile };
process.stdout.write(`${JSON.stringify(info)}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await api.close();
    process.exitCode = 0;
  } catch (err) {
    process.stderr.write(`k8s-api: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
