// The peer row: `cfssl serve` signing the same CSRs under the same load as Hallmark's SVID route,
// and the ratios the performance goal is stated in (Hallmark / cfssl, same run).
import { figure } from './bench-report.js';
import { cfsslSignBody, findCfssl, startCfssl } from './cfssl-peer.js';
import { processAccount } from './process-cpu.js';
import {
  loadRow,
  measureLoad,
  routeTiming,
  share,
  type BenchContext,
  type MeasuredLoad,
} from './route-load.js';

/**
 * Measures cfssl's sign route with `csrs` (skipped, and said so, without cfssl on the PATH);
 * with `svid` (the SVID route measured in this run) also prints Hallmark / cfssl for throughput
 * and for CPU per request, Hallmark's CPU being its server process plus its PostgreSQL.
 * @returns cfssl's measured load, for the ratios of further SVID rows of the run.
 */
export async function runCfsslStep(
  context: BenchContext,
  csrs: readonly string[],
  svid: MeasuredLoad | undefined,
): Promise<MeasuredLoad | undefined> {
  const cfssl = findCfssl();
  if (cfssl === undefined) {
    context.report.say(
      'cfssl peer: skipped (no cfssl on the PATH; Debian: apt-get install golang-cfssl)',
    );
    return undefined;
  }
  const peer = await startCfssl(cfssl);
  try {
    const { connections } = context.options;
    const measured = await measureLoad(
      context.generator(),
      {
        origin: peer.origin,
        method: 'POST',
        path: '/api/v1/cfssl/sign',
        variants: csrs.map((csr) => ({
          headers: { 'content-type': 'application/json' },
          body: cfsslSignBody(csr),
        })),
        connections,
        ...routeTiming(context.options, { warmupRequests: 2_000, seconds: 10 }),
      },
      [processAccount('cfssl', peer.pid)],
    );
    loadRow(
      context,
      'cfssl',
      `cfssl ${peer.version.replace(/^Version:\s*/, '')} serve sign (${connections} conn)`,
      measured,
      'peer: P-256 CA, HTTPS, no attestation, no audit',
    );
    cfsslRatios(context, svid, measured, '');
    return measured;
  } finally {
    await peer.stop();
  }
}

/** Hallmark / cfssl for throughput and CPU per request, `label` naming the SVID row's setting. */
export function cfsslRatios(
  context: BenchContext,
  svid: MeasuredLoad | undefined,
  cfssl: MeasuredLoad,
  label: string,
): void {
  if (svid === undefined || svid.result.ok === 0 || cfssl.result.ok === 0) {
    context.report.say(
      '    (Hallmark / cfssl ratios need answers from the svid row in the same run)',
    );
    return;
  }
  const hallmarkCpu = share(svid.cpu, 'server') + share(svid.cpu, 'postgres');
  const cfsslCpu = share(cfssl.cpu, 'cfssl');
  context.report.add({
    key: 'cfssl',
    name: `Hallmark / cfssl, throughput${label}`,
    value: svid.result.perSecond / cfssl.result.perSecond,
    unit: 'x',
    target: 'moonshot >= 1x',
    notes: [`${figure(svid.result.perSecond)} vs ${figure(cfssl.result.perSecond)} requests/s`],
  });
  context.report.add({
    key: 'cfssl',
    name: `Hallmark / cfssl, CPU per request${label}`,
    value: hallmarkCpu / Math.max(1, cfsslCpu),
    unit: 'x',
    target: 'goal <= 2x',
    notes: [
      `Hallmark (server + postgres) ${figure(hallmarkCpu)} µs vs cfssl ${figure(cfsslCpu)} µs`,
    ],
  });
}
