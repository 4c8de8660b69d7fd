// One pass of Hallmark's rows on one running `hallmark server`: the SVID route (with cfssl beside
// it on the first pass), login, batch, the restart storm and the sidecar.
import { HallmarkClient } from '../../src/client/index.js';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import type { RowName } from './bench-options.js';
import { figure } from './bench-report.js';
import { cfsslRatios, runCfsslStep } from './cfssl-step.js';
import { BENCH_SECRET_PATHS, type HallmarkProcess } from './hallmark-process.js';
import type { BenchPodTokens } from './k8s-api-process.js';
import type { LoadJob, LoadVariant } from './load-generator.js';
import type { CpuAccount } from './process-cpu.js';
import {
  loadRow,
  measureLoad,
  routeTiming,
  type BenchContext,
  type MeasuredLoad,
} from './route-load.js';
import { measureSidecar } from './sidecar-bench.js';

/** SVID requests: pod `i % tokens` with CSR `i`, one variant per CSR. */
export function svidVariants(tokens: readonly string[], csrs: readonly string[]): LoadVariant[] {
  return csrs.map((csr, i) => ({
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${tokens[i % tokens.length]}`,
    },
    body: JSON.stringify({ csr }),
  }));
}

/** What one pass runs against. */
export interface HallmarkPass {
  readonly hallmark: HallmarkProcess;
  readonly tokens: BenchPodTokens;
  readonly csrs: readonly string[];
  readonly accounts: readonly CpuAccount[];
  /** Appended to each row's name (` · 2 workers`), empty for a single pass. */
  readonly label: string;
  /** The first pass measures cfssl and the sidecar; later ones only divide by cfssl. */
  readonly first: boolean;
  /** cfssl's measured load of this run, once the first pass measured it. */
  cfssl: MeasuredLoad | undefined;
}

/** Runs the selected rows against `pass.hallmark`; returns each route's measured load. */
export async function runHallmarkPass(
  context: BenchContext,
  pass: HallmarkPass,
): Promise<Partial<Record<RowName, MeasuredLoad>>> {
  const { options, report } = context;
  const want = (row: RowName): boolean => options.rows.has(row);
  const { hallmark, tokens, csrs, accounts, label } = pass;
  const measured: Partial<Record<RowName, MeasuredLoad>> = {};
  const origin = new URL(hallmark.url).origin;
  const { connections } = options;
  const timing = routeTiming(options, { warmupRequests: 2_000, seconds: 10 });
  const route = async (
    row: RowName,
    name: string,
    job: Omit<LoadJob, 'origin' | 'connections' | 'warmupRequests' | 'durationSeconds'>,
    target: string,
  ): Promise<MeasuredLoad> => {
    const load = await measureLoad(
      context.generator(),
      { origin, connections, ...timing, ...job },
      accounts,
    );
    loadRow(context, row, `${name} (${connections} conn)${label}`, load, target);
    measured[row] = load;
    return load;
  };

  if (want('svid')) {
    await route(
      'svid',
      'POST /v1/svid/x509',
      { method: 'POST', path: '/v1/svid/x509', variants: svidVariants(tokens.steady, csrs) },
      '>= 2,000/s, p99 < 20 ms',
    );
  }
  if (want('cfssl')) {
    if (pass.first) pass.cfssl = await runCfsslStep(context, csrs, measured.svid);
    else if (pass.cfssl !== undefined) cfsslRatios(context, measured.svid, pass.cfssl, label);
  }

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
    await route(
      'login',
      'POST /v1/authn/login',
      { method: 'POST', path: '/v1/authn/login', variants: [{ headers: {} }], clientCert },
      '>= 4,000/s',
    );
  }
  if (want('batch')) {
    const mtls = new HallmarkClient({ url: hallmark.url, ca: hallmark.bundlePem, ...clientCert });
    const { token } = await mtls.login().finally(() => mtls.close());
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    await route(
      'batch',
      'POST /v1/secrets/batch, 10 paths',
      {
        method: 'POST',
        path: '/v1/secrets/batch',
        variants: [{ headers, body: JSON.stringify({ paths: BENCH_SECRET_PATHS }) }],
      },
      '>= 3,000/s, p99 < 10 ms',
    );
  }
  if (want('storm')) await stormRow(context, pass);
  if (want('sidecar') && pass.first) {
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
  return measured;
}

/** The restart storm: every storm pod asks for its first SVID at once. */
async function stormRow(context: BenchContext, pass: HallmarkPass): Promise<void> {
  const { options, report } = context;
  const pods = pass.tokens.storm.length;
  const storm = await measureLoad(
    context.generator(),
    {
      origin: new URL(pass.hallmark.url).origin,
      method: 'POST',
      path: '/v1/svid/x509',
      variants: svidVariants(pass.tokens.storm, pass.csrs.slice(0, pods)),
      connections: options.stormConnections,
      warmupRequests: 0,
      durationSeconds: 0,
      amount: pods,
    },
    pass.accounts,
  );
  const { result } = storm;
  const all = result.ok === pods && result.errors === 0;
  report.add({
    key: 'storm',
    name: `restart storm: ${figure(pods)} new pods (${options.stormConnections} conn)${pass.label}`,
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
