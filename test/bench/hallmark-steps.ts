// Hallmark's own rows: `hallmark server` and the Kubernetes API stand-in each in a process of
// its own, driven by the load generator with distinct pods and CSRs; cfssl beside the SVID
// route under the same load; the restart storm; the sidecar. With `--workers 1,2` the routes
// run once per worker count, each on a server of its own, and the counts are compared.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import type { RowName } from './bench-options.js';
import { startJsonProcess, type BenchProcess } from './bench-process.js';
import { figure } from './bench-report.js';
import { runCfsslStep } from './cfssl-step.js';
import { runHallmarkPass, type HallmarkPass } from './hallmark-pass.js';
import { startHallmark, type HallmarkProcess } from './hallmark-process.js';
import type { BenchPodTokens, K8sApiProcessInfo } from './k8s-api-process.js';
import { postgresAccount, processAccount, serverAccount } from './process-cpu.js';
import { share, type BenchContext, type MeasuredLoad } from './route-load.js';

/** Registered pods whose tokens the steady-state SVID load cycles through. */
const STEADY_PODS = 512;

const HALLMARK_ROWS: RowName[] = ['svid', 'login', 'batch', 'storm', 'sidecar'];
const COMPARED_ROWS: RowName[] = ['svid', 'login', 'batch'];

/** `count` distinct P-256 CSRs (PEM), as sidecars send them. */
function csrPool(count: number): string[] {
  return Array.from({ length: count }, () => buildCsr(generateKeyPair('ec-p256')));
}

/** One server the Hallmark rows run on: what it is set to, and how its rows are labelled. */
interface PassSetting {
  readonly label: string;
  readonly env: Record<string, string>;
}

/** The passes `--workers` or `--compare` ask for; one unlabelled pass otherwise. */
function passSettings(options: BenchContext['options']): PassSetting[] {
  if (options.workers !== undefined)
    return options.workers.map((count) => ({
      label: `${count} worker${count === 1 ? '' : 's'}`,
      env: { HALLMARK_WORKERS: String(count) },
    }));
  if (options.compare !== undefined) {
    const changed = Object.entries(options.compare).map(([name, value]) => `${name}=${value}`);
    return [
      { label: 'as set', env: {} },
      { label: changed.join(' '), env: options.compare },
    ];
  }
  return [{ label: '', env: {} }];
}

/** Hallmark's CPU per request of a route: its server processes and its PostgreSQL. */
const hallmarkCpu = (load: MeasuredLoad): number =>
  share(load.cpu, 'server') + share(load.cpu, 'postgres');

/** Each further pass against the first: throughput and CPU per request. */
function comparePasses(
  context: BenchContext,
  settings: readonly PassSetting[],
  passes: readonly Partial<Record<RowName, MeasuredLoad>>[],
): void {
  const [base, ...others] = passes;
  for (const [i, other] of others.entries()) {
    for (const row of COMPARED_ROWS) {
      const from = base?.[row];
      const to = other[row];
      if (from === undefined || to === undefined || from.result.ok === 0 || to.result.ok === 0)
        continue;
      context.report.add({
        key: row,
        name: `${row}: ${settings[i + 1]?.label} / ${settings[0]?.label}, throughput`,
        value: to.result.perSecond / from.result.perSecond,
        unit: 'x',
        target: 'reference: same run, same load',
        notes: [
          `CPU per request (server + postgres) ${figure(hallmarkCpu(to))} µs against ` +
            `${figure(hallmarkCpu(from))} µs (${figure(hallmarkCpu(to) / Math.max(1, hallmarkCpu(from)))}x)`,
        ],
      });
    }
  }
}

/** Runs the selected Hallmark rows and, beside the SVID route, the cfssl peer. */
export async function runHallmarkSteps(context: BenchContext): Promise<void> {
  const { options } = context;
  const want = (row: RowName): boolean => options.rows.has(row);
  if (!HALLMARK_ROWS.some(want) && !want('cfssl')) return;
  const csrs = csrPool(Math.max(STEADY_PODS, options.stormPods));
  if (!HALLMARK_ROWS.some(want)) {
    await runCfsslStep(context, csrs, undefined);
    return;
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-'));
  // Run as root, the embedded PostgreSQL's own user must traverse to each pass's directory.
  await chmod(dir, 0o711);
  let k8s: BenchProcess<K8sApiProcessInfo> | undefined;
  let hallmark: HallmarkProcess | undefined;
  try {
    k8s = await startJsonProcess<K8sApiProcessInfo>('./k8s-api-process.ts', [
      ...['--dir', dir, '--pods', String(STEADY_PODS)],
      ...['--storm-pods', String(want('storm') ? options.stormPods : 0)],
    ]);
    const tokens = JSON.parse(await readFile(k8s.info.tokensFile, 'utf8')) as BenchPodTokens;
    const settings = passSettings(options);
    const passes: Partial<Record<RowName, MeasuredLoad>>[] = [];
    let cfssl: MeasuredLoad | undefined;
    for (const [i, setting] of settings.entries()) {
      const serverDir = path.join(dir, `pass-${i}`);
      hallmark = await startHallmark({
        dir: serverDir,
        kubeconfig: k8s.info.kubeconfig,
        nodeArgs: options.serverNodeArgs,
        extraEnv: {
          // As many TokenReviews in flight as the storm has requests (the default, 32, answers
          // the rest 429 at once); --server-env sets it back to see that.
          HALLMARK_TOKENREVIEW_CONCURRENCY: String(
            Math.max(options.connections, options.stormConnections),
          ),
          ...options.serverEnv,
          ...setting.env,
        },
      });
      const pass: HallmarkPass = {
        hallmark,
        tokens,
        csrs,
        accounts: [
          serverAccount('server', hallmark.pid),
          postgresAccount(hallmark.pid),
          processAccount('k8s-api', k8s.pid),
        ],
        label: setting.label === '' ? '' : ` · ${setting.label}`,
        first: i === 0,
        cfssl,
      };
      passes.push(await runHallmarkPass(context, pass));
      cfssl = pass.cfssl;
      await hallmark.stop();
      hallmark = undefined;
    }
    if (settings.length > 1) comparePasses(context, settings, passes);
  } finally {
    await hallmark?.stop();
    const code = await k8s?.stop();
    if (code !== undefined && code !== 0)
      context.report.say(
        '!! the Kubernetes API stand-in saw calls outside deploy/rbac.yaml (see above)',
      );
    await rm(dir, { recursive: true, force: true });
  }
}
