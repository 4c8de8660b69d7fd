// Hallmark's own rows: `hallmark server` and the Kubernetes API stand-in each in a process of
// its own, driven by the load generator with distinct pods and CSRs; cfssl beside the SVID
// route under the same load; the restart storm; the sidecar.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HallmarkClient } from '../../src/client/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import type { RowName } from './bench-options.js';
import { startJsonProcess, type BenchProcess } from './bench-process.js';
import { figure } from './bench-report.js';
import { runCfsslStep } from './cfssl-step.js';
import { BENCH_SECRET_PATHS, startHallmark, type HallmarkProcess } from './hallmark-process.js';
import type { BenchPodTokens, K8sApiProcessInfo } from './k8s-api-process.js';
import type { LoadVariant } from './load-generator.js';
import { postgresAccount, processAccount, serverAccount } from './process-cpu.js';
import {
  loadRow,
  measureLoad,
  routeTiming,
  type BenchContext,
  type MeasuredLoad,
} from './route-load.js';
import { measureSidecar } from './sidecar-bench.js';

/** Registered pods whose tokens the steady-state SVID load cycles through. */
const STEADY_PODS = 512;

const HALLMARK_ROWS: RowName[] = ['svid', 'login', 'batch', 'storm', 'sidecar'];

/** `count` distinct P-256 CSRs (PEM), as sidecars send them. */
function csrPool(count: number): string[] {
  return Array.from({ length: count }, () => buildCsr(generateKeyPair('ec-p256')));
}

/** SVID requests: pod `i % tokens` with CSR `i`, one variant per CSR. */
function svidVariants(tokens: readonly string[], csrs: readonly string[]): LoadVariant[] {
  return csrs.map((csr, i) => ({
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${tokens[i % tokens.length]}`,
    },
    body: JSON.stringify({ csr }),
  }));
}

/** Runs the selected Hallmark rows and, beside the SVID route, the cfssl peer. */
export async function runHallmarkSteps(context: BenchContext): Promise<void> {
  const { options, report } = context;
  const want = (row: RowName): boolean => options.rows.has(row);
  if (!HALLMARK_ROWS.some(want) && !want('cfssl')) return;
  const csrs = csrPool(Math.max(STEADY_PODS, options.stormPods));
  let svid: MeasuredLoad | undefined;
  if (!HALLMARK_ROWS.some(want)) {
    await runCfsslStep(context, csrs, undefined);
    return;
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-'));
  let k8s: BenchProcess<K8sApiProcessInfo> | undefined;
  let hallmark: HallmarkProcess | undefined;
  try {
    k8s = await startJsonProcess<K8sApiProcessInfo>('./k8s-api-process.ts', [
      ...['--dir', dir, '--pods', String(STEADY_PODS)],
      ...['--storm-pods', String(want('storm') ? options.stormPods : 0)],
    ]);
    hallmark = await startHallmark({
      dir,
      kubeconfig: k8s.info.kubeconfig,
      extraEnv: {
        // As many TokenReviews in flight as the storm has requests (the default, 32, answers
        // the rest 429 at once); --server-env sets it back to see that.
        HALLMARK_TOKENREVIEW_CONCURRENCY: String(
          Math.max(options.connections, options.stormConnections),
        ),
        ...options.serverEnv,
      },
    });
    const tokens = JSON.parse(await readFile(k8s.info.tokensFile, 'utf8')) as BenchPodTokens;
    const origin = new URL(hallmark.url).origin;
    const accounts = [
      serverAccount('server', hallmark.pid),
      postgresAccount(hallmark.pid),
      processAccount('k8s-api', k8s.pid),
    ];
    const { connections } = options;
    const timing = routeTiming(options, { warmupRequests: 2_000, seconds: 10 });

    if (want('svid')) {
      svid = await measureLoad(
        context.generator(),
        {
          origin,
          method: 'POST',
          path: '/v1/svid/x509',
          variants: svidVariants(tokens.steady, csrs),
          connections,
          ...timing,
        },
        accounts,
      );
      loadRow(
        context,
        'svid',
        `POST /v1/svid/x509 (${connections} conn)`,
        svid,
        '>= 2,000/s, p99 < 20 ms',
      );
    }
    if (want('cfssl')) await runCfsslStep(context, csrs, svid);

    // One SVID for a workload, for the mutual-TLS login and (through it) the batch token.
    const keyPair = generateKeyPair('ec-p256');
    const client = new HallmarkClient({ url: hallmark.url, ca: hallmark.bundlePem });
    const issued = await client
      .issueX509Svid(tokens.steady[0] as string, buildCsr(keyPair))
      .finally(() => client.close());
    const clientCert = {
      cert: issued.svid,
      key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
    if (want('login')) {
      const login = await measureLoad(
        context.generator(),
        {
          origin,
          method: 'POST',
          path: '/v1/authn/login',
          variants: [{ headers: {} }],
          connections,
          clientCert,
          ...timing,
        },
        accounts,
      );
      loadRow(context, 'login', `POST /v1/authn/login (${connections} conn)`, login, '>= 4,000/s');
    }
    if (want('batch')) {
      const mtls = new HallmarkClient({ url: hallmark.url, ca: hallmark.bundlePem, ...clientCert });
      const { token } = await mtls.login().finally(() => mtls.close());
      const batch = await measureLoad(
        context.generator(),
        {
          origin,
          method: 'POST',
          path: '/v1/secrets/batch',
          variants: [
            {
              headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
              body: JSON.stringify({ paths: BENCH_SECRET_PATHS }),
            },
          ],
          connections,
          ...timing,
        },
        accounts,
      );
      loadRow(
        context,
        'batch',
        `POST /v1/secrets/batch, 10 paths (${connections} conn)`,
        batch,
        '>= 3,000/s, p99 < 10 ms',
      );
    }
    if (want('storm')) {
      const pods = tokens.storm.length;
      const storm = await measureLoad(
        context.generator(),
        {
          origin,
          method: 'POST',
          path: '/v1/svid/x509',
          variants: svidVariants(tokens.storm, csrs.slice(0, pods)),
          connections: options.stormConnections,
          warmupRequests: 0,
          durationSeconds: 0,
          amount: pods,
        },
        accounts,
      );
      const { result } = storm;
      const all = result.ok === pods && result.errors === 0;
      report.add({
        key: 'storm',
        name: `restart storm: ${figure(pods)} new pods (${options.stormConnections} conn)`,
        value: result.seconds,
        unit: 's',
        target: 'time until every pod has an SVID',
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        errors: result.errors,
        cpu: storm.cpu,
        notes: [
          `${figure(result.ok)} of ${figure(pods)} pods got an SVID (${figure(result.ok / result.seconds)}/s), ` +
            (all ? 'every one of them' : `${figure(pods - result.ok)} did NOT`),
          ...(result.samples.length > 0 ? [`first errors: ${result.samples.join(' | ')}`] : []),
        ],
      });
    }
    if (want('sidecar')) {
      const runMs = options.quick ? 2_000 : 60_000;
      const sidecar = await measureSidecar({
        serverUrl: hallmark.url,
        bundlePem: hallmark.bundlePem,
        podToken: tokens.steady[1] as string,
        runMs,
      });
      report.add({
        key: 'sidecar',
        name: 'sidecar start -> access-token',
        value: sidecar.startToTokenMs,
        unit: 'ms',
        target: '< 1,000 ms (server reachable)',
      });
      report.add({
        key: 'sidecar',
        name: `sidecar RSS after ${runMs / 1000} s`,
        value: sidecar.rssMb,
        unit: 'MB',
        target: '< 80 MB',
      });
    }
  } finally {
    await hallmark?.stop();
    const code = await k8s?.stop();
    if (code !== undefined && code !== 0)
      report.say('!! the Kubernetes API stand-in saw calls outside deploy/rbac.yaml (see above)');
    await rm(dir, { recursive: true, force: true });
  }
}
