// CLI for the test Kubernetes API: `node --import tsx test/k8s-api/main.ts [--dir D] [--port P]
// [--control-port C]`. Writes a kubeconfig and a CA file, prints one JSON line, runs until
// SIGTERM/SIGINT; exits 1 if any Kubernetes call fell outside deploy/rbac.yaml.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlServer, startTestKubernetesApi } from './index.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string', default: '0' },
    'control-port': { type: 'string', default: '0' },
  },
});

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'hallmark-k8s-'));
const api = await startTestKubernetesApi({ port: Number(values.port) });
const control = await startControlServer(api, { port: Number(values['control-port']) });
const kubeconfig = join(dir, 'kubeconfig.yaml');
const caFile = join(dir, 'ca.pem');
// The kubeconfig holds a credential: owner-only, like ~/.kube/config should be.
writeFileSync(kubeconfig, api.kubeconfig(), { mode: 0o600 });
writeFileSync(caFile, api.caPem);
process.stdout.write(
  JSON.stringify({
    kubeconfig,
    caFile,
    url: api.url,
    controlUrl: control.url,
    controlToken: control.token,
  }) + '\n',
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await control.close();
  try {
    await api.close();
    process.exitCode = 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
