// `npm run bench`: every performance figure of docs/performance.md in one run, each printed beside the
// machine's raw limit (node:crypto P-256 signing rate, measured here) as a ratio.
// `--quick` runs each step briefly (CI smoke: proves the bench works, asserts nothing timed).
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, Pool } from 'undici';
import { buildCsr, generateKeyPair } from '../../src/x509/index.js';
import type { BenchServerInfo } from './bench-server.js';
import type { RouteFloorServerInfo } from './route-floor-server.js';
import { measureCsrFloor, measureEngine, measureRawSign } from './engine-bench.js';
import { measureHttpsFloor } from './https-floor.js';
import { runLoad, type LoadResult } from './load.js';
import { measureSidecar } from './sidecar-bench.js';
import { measureAuditAppends } from './audit-bench.js';
import { measureTokenSign } from './hsm-bench.js';
import { measureSyslogSink } from './sink-bench.js';

const quick = process.argv.includes('--quick');
const seconds = (full: number): number => (quick ? Math.max(0.5, full / 10) : full) * 1000;

interface Row {
  name: string;
  value: number;
  unit: string;
  target: string;
  ratio?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
}
const rows: Row[] = [];

function printRow(row: Row): void {
  const ratio = row.ratio === undefined ? '' : `  ${(row.ratio * 100).toFixed(1)}% of raw sign`;
  const latency =
    row.p50Ms === undefined
      ? ''
      : `  p50 ${row.p50Ms.toFixed(2)} ms  p99 ${(row.p99Ms ?? 0).toFixed(2)} ms`;
  const errors = row.errors ? `  errors ${row.errors}` : '';
  console.log(
    `${row.name.padEnd(36)} ${row.value.toFixed(0).padStart(8)} ${row.unit.padEnd(8)}${latency}${ratio}${errors}   (target ${row.target})`,
  );
  rows.push(row);
}

/**
 * Runs `script` (beside this file) in its own process, as a deployed server runs, and waits for
 * the one JSON line it prints when it is ready.
 */
async function startBenchProcess<T>(
  script: string,
): Promise<{ info: T; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(script, import.meta.url).pathname],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const info = await new Promise<T>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within 120 s`)),
      120_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    info,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function fetchJson(
  origin: string,
  ca: string,
  path: string,
  body: unknown,
  bearer: string,
): Promise<Record<string, unknown>> {
  const agent = new Agent({ connect: { ca } });
  try {
    const response = await agent.request({
      origin,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify(body),
    });
    const parsed = (await response.body.json()) as Record<string, unknown>;
    if (response.statusCode !== 200)
      throw new Error(`${path}: ${response.statusCode} ${JSON.stringify(parsed)}`);
    return parsed;
  } finally {
    await agent.close();
  }
}

function loadRow(name: string, result: LoadResult, raw: number, target: string): void {
  printRow({
    name,
    value: result.perSecond,
    unit: 'req/s',
    target,
    ratio: result.perSecond / raw,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
  });
  if (result.samples.length > 0) console.log(`  first errors: ${result.samples.join(' | ')}`);
}

const raw = await measureRawSign(seconds(3));
printRow({
  name: 'raw crypto.sign P-256 (the limit)',
  value: raw.opsPerSec,
  unit: 'ops/s',
  target: 'reference',
});
// What every issuance must do besides signing; the engine cannot be faster than all three.
const floor = await measureCsrFloor(seconds(2));
printRow({
  name: 'raw crypto.verify P-256 (CSR check)',
  value: floor.verify.opsPerSec,
  unit: 'ops/s',
  target: 'reference',
  ratio: floor.verify.opsPerSec / raw.opsPerSec,
});
printRow({
  name: 'P-256 public key import (JWK)',
  value: floor.keyImport.opsPerSec,
  unit: 'ops/s',
  target: 'reference',
  ratio: floor.keyImport.opsPerSec / raw.opsPerSec,
});
const ceiling =
  1 / (1 / raw.opsPerSec + 1 / floor.verify.opsPerSec + 1 / floor.keyImport.opsPerSec);
printRow({
  name: 'engine ceiling (sign+verify+import)',
  value: ceiling,
  unit: 'SVIDs/s',
  target: 'reference: no engine beats it',
  ratio: ceiling / raw.opsPerSec,
});
const engine = await measureEngine(seconds(5));
printRow({
  name: 'certificate engine (CSR -> SVID)',
  value: engine.opsPerSec,
  unit: 'SVIDs/s',
  target: '>= 10,000/s',
  ratio: engine.opsPerSec / raw.opsPerSec,
});

// The same signature with the key in a PKCS#11 token (SoftHSM2: software, so this is the
// binding and session overhead, not a hardware HSM's speed).
const token = await measureTokenSign(seconds(4));
if ('skipped' in token) {
  console.log(`SoftHSM2 sign P-256: skipped (${token.skipped})`);
} else {
  printRow({
    name: 'SoftHSM2 C_Sign P-256, 1 in flight',
    value: token.serial,
    unit: 'ops/s',
    target: 'reference',
    ratio: token.serial / raw.opsPerSec,
  });
  printRow({
    name: `SoftHSM2 C_Sign P-256, ${token.sessions} sessions`,
    value: token.parallel,
    unit: 'ops/s',
    target: 'reference',
    ratio: token.parallel / raw.opsPerSec,
  });
}

const audit = await measureAuditAppends(seconds(5));
printRow({
  name: 'audit appends (256 concurrent)',
  value: audit.perSecond,
  unit: 'rows/s',
  target: '>= 5,000/s',
  ratio: audit.perSecond / raw.opsPerSec,
});

const sink = await measureSyslogSink(quick ? 5_000 : 50_000);
if (sink !== undefined) {
  printRow({
    name: 'audit sink: rows delivered to rsyslogd over TLS',
    value: sink.perSecond,
    unit: 'rows/s',
    target: 'reference: OCSF payload, RFC 5425 framing',
    ratio: sink.perSecond / raw.opsPerSec,
  });
}

// Attestation makes two Kubernetes calls; with the test API in-process each costs at least this.
const https = await measureHttpsFloor(seconds(3));
printRow({
  name: 'in-process HTTPS round trip (floor)',
  value: https.perSecond,
  unit: 'req/s',
  target: `reference: ${https.cpuMicros} us CPU each, both ends`,
  ratio: https.perSecond / raw.opsPerSec,
});

// What a route reaches here with the server in its own process, as below: with no work, and
// with only the work a login or a batch read cannot skip (the floors under their budgets).
const floors = await startBenchProcess<RouteFloorServerInfo>('./route-floor-server.ts');
try {
  const origin = new URL(floors.info.url).origin;
  const pool = new Pool(origin, { connections: 16, connect: { ca: floors.info.bundlePem } });
  for (const [name, path, target] of [
    ['HTTPS route, no work', '/noop', 'reference: fastify alone; no route beats it'],
    ['login floor', '/login-floor', 'reference: only an ES256 JWT + an audit row'],
    ['batch floor, 10 paths', '/batch-floor', 'reference: only 10 AES-GCM opens + an audit row'],
  ] as const) {
    const floor = await runLoad({
      dispatcher: pool,
      origin,
      concurrency: 16,
      warmupMs: seconds(1),
      durationMs: seconds(4),
      request: () => ({ method: 'POST', path }),
    });
    loadRow(`${name} (16 clients)`, floor, raw.opsPerSec, target);
  }
  await pool.close();
} finally {
  await floors.stop();
}

const { info, stop } = await startBenchProcess<BenchServerInfo>('./bench-server.ts');
try {
  const origin = new URL(info.url).origin;
  const pool = new Pool(origin, { connections: 32, connect: { ca: info.bundlePem } });
  const csrs = Array.from({ length: 64 }, () =>
    JSON.stringify({ csr: buildCsr(generateKeyPair('ec-p256')) }),
  );
  const svid = await runLoad({
    dispatcher: pool,
    origin,
    concurrency: 16,
    warmupMs: seconds(1),
    durationMs: seconds(8),
    request: (i) => ({
      method: 'POST',
      path: '/v1/svid/x509',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${info.podTokens[i % info.podTokens.length]}`,
      },
      body: csrs[i % csrs.length],
    }),
  });
  loadRow('POST /v1/svid/x509 (16 clients)', svid, raw.opsPerSec, '>= 2,000/s, p99 < 20 ms');
  await pool.close();

  // One SVID for the workload, then mutual-TLS logins with it over kept-alive connections.
  const keyPair = generateKeyPair('ec-p256');
  const issued = await fetchJson(
    origin,
    info.bundlePem,
    '/v1/svid/x509',
    { csr: buildCsr(keyPair) },
    info.podTokens[0] as string,
  );
  const mtls = new Pool(origin, {
    connections: 16,
    connect: {
      ca: info.bundlePem,
      cert: issued['svid'] as string,
      key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    },
  });
  const login = await runLoad({
    dispatcher: mtls,
    origin,
    concurrency: 16,
    warmupMs: seconds(1),
    durationMs: seconds(8),
    request: () => ({ method: 'POST', path: '/v1/authn/login' }),
  });
  loadRow('POST /v1/authn/login (16 clients)', login, raw.opsPerSec, '>= 4,000/s');
  const token = (await (
    await mtls.request({ origin, method: 'POST', path: '/v1/authn/login' })
  ).body.json()) as { token: string };
  await mtls.close();

  const batchPool = new Pool(origin, { connections: 16, connect: { ca: info.bundlePem } });
  const batchBody = JSON.stringify({ paths: info.secretPaths });
  const batch = await runLoad({
    dispatcher: batchPool,
    origin,
    concurrency: 16,
    warmupMs: seconds(1),
    durationMs: seconds(8),
    request: () => ({
      method: 'POST',
      path: '/v1/secrets/batch',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.token}` },
      body: batchBody,
    }),
  });
  loadRow('POST /v1/secrets/batch, 10 paths', batch, raw.opsPerSec, '>= 3,000/s, p99 < 10 ms');
  await batchPool.close();

  const sidecar = await measureSidecar({
    serverUrl: info.url,
    bundlePem: info.bundlePem,
    podToken: info.podTokens[1] as string,
    runMs: quick ? 2_000 : 60_000,
  });
  printRow({
    name: 'sidecar start -> access-token',
    value: sidecar.startToTokenMs,
    unit: 'ms',
    target: '< 1,000 ms (server reachable)',
  });
  printRow({
    name: `sidecar RSS after ${quick ? 2 : 60} s`,
    value: sidecar.rssMb,
    unit: 'MB',
    target: '< 80 MB',
  });
} finally {
  await stop();
}

await mkdir('bench-results', { recursive: true });
const report = { date: new Date().toISOString(), quick, node: process.version, rows };
await writeFile('bench-results/latest.json', `${JSON.stringify(report, null, 2)}\n`);
console.log('\nreport written to bench-results/latest.json');
