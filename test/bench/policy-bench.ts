// Policy compile cost: a 50,000-registration + 50,000-grant document, and a 1 MiB YAML load.
// Runnable alone: `node --import tsx test/bench/policy-bench.ts`.
import { Buffer } from 'node:buffer';
import { compileDocument, compilePolicy } from '../../src/policy/compiled-policy.js';
import { DEFAULT_YAML_LIMITS, readYamlDocument } from '../../src/policy/safe-yaml.js';

/** Milliseconds for each stage of compiling one generated document. */
export interface PolicyCompileTimes {
  registrations: number;
  grants: number;
  bytes: number;
  /** YAML reading (lexing, parsing, composing, converting to plain data). */
  readMs: number;
  /** Validation and indexing of the plain data: what every replica does after reading. */
  compileMs: number;
  /** CPU time of that same (fastest) compile: on a shared machine, wall time includes waiting. */
  compileCpuMs: number;
}

const OPTIONS = { trustDomain: 'hallmark.local', maxTtlSeconds: 86_400 };

/**
 * A policy shaped like a large cluster's: `registrations / 5` namespaces, each with five
 * registrations (two service accounts, a label selector, a label-derived ID, a catch-all),
 * and `grants` grants to SPIFFE IDs, one in ten to a pattern and a ten-member group.
 */
export function largePolicy(registrations: number, grants: number): string {
  const lines: string[] = ['workloads:'];
  const namespaces = Math.max(1, Math.floor(registrations / 5));
  for (let i = 0; i < registrations; i++) {
    const ns = `team-${i % namespaces}`;
    switch (Math.floor(i / namespaces) % 5) {
      case 0:
        lines.push(`  - {namespace: ${ns}, serviceAccount: api, labels: {tier: gold}}`);
        break;
      case 1:
        lines.push(`  - {namespace: ${ns}, serviceAccount: api}`);
        break;
      case 2:
        lines.push(`  - {namespace: ${ns}, serviceAccount: batch, ttl: 15m}`);
        break;
      case 3:
        lines.push(
          `  - {namespace: ${ns}, labels: {role: worker}, spiffeId: "/ns/{namespace}/worker/{label:queue}"}`,
        );
        break;
      default:
        lines.push(`  - {namespace: ${ns}}`);
    }
  }
  lines.push('groups:', '  readers:');
  for (let i = 0; i < 10; i++) lines.push(`    - spiffe://hallmark.local/ns/team-${i}/*`);
  lines.push('grants:');
  for (let i = 0; i < grants; i++) {
    const ns = `team-${i % namespaces}`;
    if (i % 10 !== 0) {
      lines.push(
        `  - {to: spiffe://hallmark.local/ns/${ns}/sa/api, read: [${ns}/*], write: [${ns}/api/${i}]}`,
      );
    } else {
      lines.push(
        `  - {to: [readers, spiffe://hallmark.local/ns/${ns}/*], read: [${ns}/shared/${i}]}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Times reading and compiling {@link largePolicy}; the best of `rounds` runs of each. */
export function measurePolicyCompile(
  registrations: number,
  grants: number,
  rounds = 3,
): PolicyCompileTimes {
  const text = largePolicy(registrations, grants);
  const limits = { ...DEFAULT_YAML_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER };
  let readMs = Infinity;
  let compileMs = Infinity;
  let compileCpuMs = Infinity;
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    const document = readYamlDocument(text, limits);
    readMs = Math.min(readMs, performance.now() - start);
    start = performance.now();
    const cpu = process.cpuUsage();
    const policy = compileDocument(text, document, OPTIONS);
    const elapsed = performance.now() - start;
    if (elapsed < compileMs) {
      const used = process.cpuUsage(cpu);
      compileMs = elapsed;
      compileCpuMs = (used.user + used.system) / 1000;
    }
    if (policy.registrations.length !== registrations) throw new Error('registrations lost');
  }
  return {
    registrations,
    grants,
    bytes: Buffer.byteLength(text),
    readMs,
    compileMs,
    compileCpuMs,
  };
}

/**
 * The 1 MiB document of the issue: one registration per namespace (as a large cluster
 * needs), as many as fit, compiled end to end by `compilePolicy` under the default limits.
 */
export function measureMebibytePolicy(): { registrations: number; bytes: number; ms: number } {
  const entry = (i: number) =>
    `  - namespace: team-${i}\n    serviceAccount: app\n    labels: {app: web}\n    ttl: 1h\n`;
  let text = 'workloads:\n';
  let registrations = 0;
  while (Buffer.byteLength(text) + entry(registrations).length <= DEFAULT_YAML_LIMITS.maxBytes) {
    text += entry(registrations++);
  }
  const start = performance.now();
  compilePolicy(text, OPTIONS);
  return { registrations, bytes: Buffer.byteLength(text), ms: performance.now() - start };
}

/**
 * Many registrations with many labels: `registrations` in one namespace, `labels` labels each,
 * all alike but for one, so every pair shares all but one label (what an index of label
 * subsets, 2^labels per entry, or a pairwise scan, n^2, would pay for). Times the compile
 * alone, after the YAML read.
 */
export function measureManyLabelPolicy(
  registrations: number,
  labels: number,
): { registrations: number; labels: number; ms: number } {
  const shared = Array.from({ length: labels - 1 }, (_, i) => `      k${i}: v\n`).join('');
  let text = 'workloads:\n';
  for (let i = 0; i < registrations; i++)
    text += `  - namespace: big\n    labels:\n${shared}      id: r${i}\n`;
  const limits = { ...DEFAULT_YAML_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER };
  const document = readYamlDocument(text, limits);
  const start = performance.now();
  compileDocument(text, document, OPTIONS);
  return { registrations, labels, ms: performance.now() - start };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const times = measurePolicyCompile(50_000, 50_000);
  console.log(
    `policy compile ${times.registrations} registrations + ${times.grants} grants (${(times.bytes / 1048576).toFixed(1)} MiB): compile ${times.compileMs.toFixed(0)} ms (CPU ${times.compileCpuMs.toFixed(0)} ms), YAML read ${times.readMs.toFixed(0)} ms`,
  );
  const mib = measureMebibytePolicy();
  console.log(
    `policy compilePolicy 1 MiB YAML (${mib.registrations} registrations, ${mib.bytes} bytes): ${mib.ms.toFixed(0)} ms`,
  );
  const labelled = measureManyLabelPolicy(10_000, 24);
  console.log(
    `policy compile ${labelled.registrations} registrations x ${labelled.labels} labels, one namespace: ${labelled.ms.toFixed(0)} ms`,
  );
}
