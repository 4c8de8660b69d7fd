// `npm run bench`: every performance figure of docs/performance.md in one run, each rate beside
// the machine's raw limit (node:crypto P-256 signing, measured here) as a ratio, each route with
// the CPU every process spent per request. `--help` lists the rows; `--only` picks some;
// `--quick` is a smoke run of the bench itself (nothing it prints is a figure).
import { BenchReport, figure } from './bench-report.js';
import { parseBenchOptions, usage, type BenchOptions, type RowName } from './bench-options.js';
import { measureAuditAppends } from './audit-bench.js';
import { measureArchive, measureCheckpointRound } from './checkpoint-bench.js';
import { WARM_UP, measureCsrFloor, measureEngine, measureRawSign } from './engine-bench.js';
import { runFloorSteps } from './floor-steps.js';
import { runHallmarkSteps } from './hallmark-steps.js';
import { measureHttpsFloor } from './https-floor.js';
import { measureKubernetesClient } from './k8s-client-bench.js';
import { measureTokenSign } from './hsm-bench.js';
import { measureSyslogSink } from './sink-bench.js';
import {
  measureManyLabelPolicy,
  measureMebibytePolicy,
  measurePolicyCompile,
} from './policy-bench.js';
import { LoadGenerator } from './load-generator.js';
import { describeMachine, formatLoad } from './machine.js';
import type { BenchContext } from './route-load.js';

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${usage()}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage());
  process.exit(0);
}
const want = (row: RowName): boolean => options.rows.has(row);
const ms = (full: number): number => (options.quick ? Math.max(500, full / 10) : full);

const report = new BenchReport();
const machineAtStart = describeMachine();
report.say(
  `machine: ${machineAtStart.cpuModel}, ${machineAtStart.cores} cores (${machineAtStart.availableParallelism} usable), ` +
    `${machineAtStart.memoryGb} GB; ${machineAtStart.kernel}; Node ${machineAtStart.node}, OpenSSL ${machineAtStart.openssl}`,
);
report.say(
  `at start: ${formatLoad(machineAtStart)}` +
    (machineAtStart.loadAverage[0] > machineAtStart.cores / 2
      ? '  -- the machine is busy with other work: figures are noisy, compare ratios in one run'
      : ''),
);
report.say(
  `rows: ${[...options.rows].join(', ')}; ${options.connections} connections per route` +
    (options.quick ? '; QUICK (a smoke run: these are not figures)' : '') +
    '\n',
);

let generator: LoadGenerator | undefined;
const context: BenchContext = {
  options,
  report,
  rawSignRate: 0,
  generator: () => (generator ??= LoadGenerator.start()),
};

try {
  const raw = await measureRawSign(ms(3000));
  context.rawSignRate = raw.opsPerSec;
  report.add({
    key: 'raw',
    name: 'raw crypto.sign P-256 (the limit)',
    value: raw.opsPerSec,
    unit: 'ops/s',
    target: 'reference',
  });

  let engineCeiling: { rate: number; cpu: number } | undefined;
  if (want('csr-floor')) {
    // What every issuance must do besides signing; the engine cannot be faster than all of it.
    const floor = await measureCsrFloor(ms(3000), options.quick ? 20 : WARM_UP);
    for (const [name, rate] of [
      ['raw crypto.verify P-256 (CSR check)', floor.verify.opsPerSec],
      ['P-256 public key import (JWK)', floor.keyImport.opsPerSec],
      ['JWK import + verify under the new key', floor.importAndVerify.opsPerSec],
    ] as const)
      report.add({
        key: 'csr-floor',
        name,
        value: rate,
        unit: 'ops/s',
        target: 'reference',
        ratio: rate / raw.opsPerSec,
      });
    // The pair, not verify and import apart: a new key's first verify costs more (see measureCsrFloor).
    const ceiling = 1 / (1 / raw.opsPerSec + 1 / floor.importAndVerify.opsPerSec);
    engineCeiling = { rate: ceiling, cpu: floor.cpu.sign + floor.cpu.importAndVerify };
    report.add({
      key: 'csr-floor',
      name: 'engine ceiling (sign+import+verify)',
      value: ceiling,
      unit: 'SVIDs/s',
      target: 'reference: no engine beats it',
      ratio: ceiling / raw.opsPerSec,
      notes: [
        `CPU µs: sign ${figure(floor.cpu.sign)} + import and verify ` +
          `${figure(floor.cpu.importAndVerify)} = ${figure(engineCeiling.cpu)}`,
      ],
    });
  }

  if (want('engine')) {
    const engine = await measureEngine(ms(5000), options.quick ? 20 : WARM_UP);
    report.add({
      key: 'engine',
      name: 'certificate engine (CSR -> SVID)',
      value: engine.opsPerSec,
      unit: 'SVIDs/s',
      target: '>= 10,000/s',
      ratio: engine.opsPerSec / raw.opsPerSec,
      notes: [
        `CPU µs per SVID: ${figure(engine.parts.total)} in all = CSR decode + key import + ` +
          `verify ${figure(engine.parts.csr)} · template + sign + PEM ` +
          `${figure(engine.parts.total - engine.parts.csr - engine.parts.leafCheck)} · ` +
          `issued-leaf re-check ${figure(engine.parts.leafCheck)}`,
        ...(engineCeiling === undefined
          ? []
          : [
              `engine / ceiling: ${percent(engine.opsPerSec / engineCeiling.rate)} by rate, ` +
                `${percent(engineCeiling.cpu / engine.parts.total)} by CPU per SVID`,
            ]),
      ],
    });
  }

  if (want('hsm')) {
    // The same signature with the key in a PKCS#11 token (SoftHSM2: software, so this is the
    // binding and session overhead, not a hardware HSM's speed).
    const token = await measureTokenSign(ms(4000));
    if ('skipped' in token) {
      report.say(`SoftHSM2 sign P-256: skipped (${token.skipped})`);
    } else {
      for (const [name, rate] of [
        ['SoftHSM2 C_Sign P-256, 1 in flight', token.serial],
        [`SoftHSM2 C_Sign P-256, ${token.sessions} sessions`, token.parallel],
        ['engine, CA in SoftHSM2, 1 in flight (CSR -> SVID)', token.engineSerial],
        [`engine, CA in SoftHSM2, 16 in flight`, token.engineParallel],
      ] as const)
        report.add({
          key: 'hsm',
          name,
          value: rate,
          unit: 'ops/s',
          target: 'reference',
          ratio: rate / raw.opsPerSec,
        });
    }
  }

  if (want('audit')) {
    const audit = await measureAuditAppends(ms(5000));
    report.add({
      key: 'audit',
      name: 'audit appends (256 concurrent)',
      value: audit.perSecond,
      unit: 'rows/s',
      target: '>= 5,000/s',
      ratio: audit.perSecond / raw.opsPerSec,
    });
    // The same with the checkpointer signing the head every second beside the appends.
    const signing = await measureAuditAppends(ms(5000), 256, { checkpoints: true });
    report.add({
      key: 'audit',
      name: `audit appends (256 concurrent), ${signing.checkpoints} checkpoints signed meanwhile`,
      value: signing.perSecond,
      unit: 'rows/s',
      target: 'within noise of the row above',
      ratio: signing.perSecond / raw.opsPerSec,
    });
  }

  if (want('checkpoint')) {
    // Once a minute on one replica, off every request's path: what a round costs that replica.
    const round = await measureCheckpointRound(options.quick ? 20 : 200);
    report.add({
      key: 'checkpoint',
      name: 'audit checkpoint round (lock, head, ES256 sign, insert)',
      value: round.msPerRound,
      unit: 'ms',
      target: 'reference: once per interval, one replica',
    });
    const rows = options.quick ? 10_000 : 100_000;
    const archive = await measureArchive(rows);
    report.add({
      key: 'checkpoint',
      name: `audit archive of ${rows / 1000}k rows (segment ${(archive.bytes / 1048576).toFixed(1)} MiB, delete)`,
      value: archive.archivePerSecond,
      unit: 'rows/s',
      target: 'reference: one transaction',
    });
    report.add({
      key: 'checkpoint',
      name: 'audit verify --archive of that segment, offline',
      value: archive.verifyPerSecond,
      unit: 'rows/s',
      target: 'reference',
    });
  }

  if (want('policy')) {
    // What every replica does on each policy load and NOTIFY; YAML reading is shown beside it.
    const size = options.quick ? 5_000 : 50_000;
    const policy = measurePolicyCompile(size, size, options.quick ? 1 : 3);
    report.add({
      key: 'policy',
      name: `policy compile ${size / 1000}k regs + ${size / 1000}k grants`,
      value: policy.compileMs,
      unit: 'ms',
      target: `< 1,000 ms (CPU ${policy.compileCpuMs.toFixed(0)} ms); YAML read of its ${(policy.bytes / 1048576).toFixed(1)} MiB: ${policy.readMs.toFixed(0)} ms`,
    });
    const mebibyte = measureMebibytePolicy();
    report.add({
      key: 'policy',
      name: `policy load 1 MiB YAML (${mebibyte.registrations} regs)`,
      value: mebibyte.ms,
      unit: 'ms',
      target: 'a few seconds (read + compile)',
    });
    const labelled = measureManyLabelPolicy(options.quick ? 2_000 : 10_000, 24);
    report.add({
      key: 'policy',
      name: `policy compile ${labelled.registrations / 1000}k regs x ${labelled.labels} labels, 1 namespace`,
      value: labelled.ms,
      unit: 'ms',
      target: 'linear in the registrations, never 2^labels (shadow check)',
    });
  }

  if (want('sink')) {
    const sink = await measureSyslogSink(options.quick ? 5_000 : 50_000);
    if (sink === undefined) report.say('audit sink: skipped (no rsyslogd)');
    else
      report.add({
        key: 'sink',
        name: 'audit sink: rows to rsyslogd over TLS',
        value: sink.perSecond,
        unit: 'rows/s',
        target: 'reference: OCSF payload, RFC 5425 framing',
        ratio: sink.perSecond / raw.opsPerSec,
      });
  }

  if (want('k8s-floor')) {
    // Attestation makes two Kubernetes calls; each costs the server at least this much.
    const https = await measureHttpsFloor(ms(3000), options.connections);
    report.add({
      key: 'k8s-floor',
      name: `Kubernetes call floor: HTTPS GET (${options.connections} conn)`,
      value: https.perSecond,
      unit: 'req/s',
      target: 'reference: undici to a process that only answers',
      ratio: https.perSecond / raw.opsPerSec,
      cpu: [
        { label: 'client (undici)', micros: https.clientCpuMicros },
        { label: 'answering server', micros: https.serverCpuMicros },
      ],
    });
  }

  if (want('k8s-client')) {
    // The same two calls through src/attest: what client-node and its adapter add to the floor.
    for (const figure of await measureKubernetesClient(ms(3000), options.connections))
      report.add({
        key: 'k8s-client',
        name: `Kubernetes calls: TokenReview + GET pod (${figure.pod} pod)`,
        value: figure.perSecond,
        unit: 'att/s',
        target: 'reference: client-node adapter, two calls per attestation',
        ratio: figure.perSecond / raw.opsPerSec,
        cpu: [{ label: 'client (attest)', micros: figure.clientCpuMicros }],
      });
  }

  await runFloorSteps(context);
  await runHallmarkSteps(context);
} finally {
  await generator?.stop();
}

const machineAtEnd = describeMachine();
report.say(`\nat end: ${formatLoad(machineAtEnd)}`);
const file = await report.write({
  quick: options.quick,
  options: {
    rows: [...options.rows],
    connections: options.connections,
    stormConnections: options.stormConnections,
    stormPods: options.stormPods,
    serverEnv: options.serverEnv,
    workers: options.workers,
    compare: options.compare,
    serverNodeArgs: options.serverNodeArgs,
  },
  machineAtStart,
  machineAtEnd,
});
report.say(`report written to ${file} (${report.rows.length} rows)`);

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(0)} %`;
}
