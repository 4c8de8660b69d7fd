// Shadowed registrations: the indexed check agrees with the rule applied pair by pair, and stays linear.
import { describe, expect, it } from 'vitest';
import { ProblemList } from '../../src/policy/policy-problem.js';
import { reportShadowed } from '../../src/policy/registration-shadow.js';
import type { CompiledRegistration } from '../../src/policy/registration.js';
import { compile, problemsOf } from './policy-test-helpers.js';

/** A registration as generated: what the rule looks at. */
interface Spec {
  namespace: string;
  serviceAccount?: string;
  labels: Record<string, string>;
  /** Label keys the template reads. */
  reads: string[];
}

/** The documented rule, pair by pair: does `earlier` select every pod `later` selects? */
function catches(earlier: Spec, later: Spec): boolean {
  if (earlier.namespace !== later.namespace) return false;
  if (earlier.serviceAccount !== undefined && earlier.serviceAccount !== later.serviceAccount) {
    return false;
  }
  for (const [key, value] of Object.entries(earlier.labels)) {
    if (later.labels[key] !== value) return false;
  }
  return earlier.reads.every(
    (key) =>
      (later.labels[key] !== undefined && later.labels[key] !== '') || later.reads.includes(key),
  );
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function generate(count: number, seed: number, keys = ['app', 'tier', 'zone']): Spec[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const specs: Spec[] = [];
  for (let i = 0; i < count; i++) {
    const labels: Record<string, string> = {};
    for (const key of keys) {
      if (next() < 0.35) labels[key] = pick(['a', 'b', '']);
    }
    const reads = ['app', 'queue', ...keys.slice(3, 6)].filter(() => next() < 0.2);
    const serviceAccount = next() < 0.5 ? pick(['api', 'batch']) : undefined;
    specs.push({ namespace: pick(['n1', 'n2']), serviceAccount, labels, reads });
  }
  return specs;
}

function toYaml(specs: readonly Spec[]): string {
  const lines = specs.map((s) => {
    const fields = [`namespace: ${s.namespace}`];
    if (s.serviceAccount !== undefined) fields.push(`serviceAccount: ${s.serviceAccount}`);
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}: "${v}"`);
    if (labels.length > 0) fields.push(`labels: {${labels.join(', ')}}`);
    const path = ['/ns/{namespace}/sa/{serviceAccount}', ...s.reads.map((k) => `{label:${k}}`)];
    fields.push(`spiffeId: "${path.join('/')}"`);
    return `  - {${fields.join(', ')}}`;
  });
  return `workloads:\n${lines.join('\n')}\n`;
}

describe('shadowed registrations', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'the indexed check reports exactly what the pairwise rule does (seed %i)',
    (seed) => {
      const specs = generate(60, seed);
      const expected = specs.flatMap((later, i) => {
        const earlier = specs.slice(0, i).findIndex((e) => catches(e, later));
        return earlier === -1 ? [] : [{ path: `workloads[${i}]`, earlier }];
      });
      expect(expected.length).toBeGreaterThan(0); // the generator does make shadows
      let reported: { path: string; earlier: number }[] = [];
      try {
        compile(toYaml(specs));
      } catch {
        reported = problemsOf(() => compile(toYaml(specs))).map((p) => ({
          path: p.path,
          earlier: Number(/workloads\[(\d+)\] comes first/.exec(p.message)?.[1]),
        }));
      }
      expect(reported).toEqual(expected);
    },
  );

  it.each([11, 12, 13])(
    'reports exactly what the pairwise rule does with a dozen labels and reads (seed %i)',
    (seed) => {
      const keys = Array.from({ length: 14 }, (_, i) => `k${i}`);
      const specs = generate(120, seed, keys).map((spec) => ({
        ...spec,
        // Mostly near-copies of one label set, so subsets abound.
        labels: Object.fromEntries(Object.entries(spec.labels).map(([k, v]) => [k, v || 'a'])),
      }));
      const expected = specs.flatMap((later, i) => {
        const earlier = specs.slice(0, i).findIndex((e) => catches(e, later));
        return earlier === -1 ? [] : [{ path: `workloads[${i}]`, earlier }];
      });
      expect(expected.length).toBeGreaterThan(0);
      const reported = problemsOf(() => compile(toYaml(specs))).map((p) => ({
        path: p.path,
        earlier: Number(/workloads\[(\d+)\] comes first/.exec(p.message)?.[1]),
      }));
      expect(reported).toEqual(expected);
    },
  );

  it('checks many registrations with many labels each in bounded time, not 2^labels or n^2', () => {
    // 5,000 registrations of one namespace, 24 labels each, all alike but for one: every pair
    // shares 23 labels, the case an index of label subsets or a pairwise scan pays for. Built
    // from one compiled registration, so only the check is timed, not the YAML parser.
    const [base] = compile(
      toYaml([{ namespace: 'n1', labels: { a: 'b' }, reads: [] }]),
    ).registrations;
    const shared = Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`k${i}`, 'v']));
    const registrations = Array.from({ length: 5_000 }, (_, index) => ({
      ...(base as CompiledRegistration),
      index,
      labels: { ...shared, id: `r${index}` },
    }));
    registrations.push({
      ...(base as CompiledRegistration),
      index: 5_000,
      labels: { ...shared, id: 'r7' },
    });
    const problems = new ProblemList();
    const started = performance.now();
    reportShadowed(registrations, 'workloads', problems);
    // Liveness bound on a shared machine (a pairwise scan here takes minutes).
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(problems.toArray().map((p) => [p.path, p.message])).toEqual([
      [
        'workloads[5000]',
        'can never match: workloads[7] comes first and selects every pod this one selects',
      ],
    ]);
  });

  it('checks a registration with more labels than the index enumerates, pair by pair', () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, 'v']));
    const specs: Spec[] = [
      { namespace: 'n1', labels: { k3: 'v' }, reads: [] },
      { namespace: 'n1', labels: many, reads: [] },
      { namespace: 'n1', labels: { ...many, k0: 'w' }, reads: [] },
    ];
    expect(problemsOf(() => compile(toYaml(specs))).map((p) => p.path)).toEqual([
      'workloads[1]',
      'workloads[2]',
    ]);
  });

  it('accepts many registrations in one namespace that do not shadow one another', () => {
    const specs: Spec[] = Array.from({ length: 2000 }, (_, i) => ({
      namespace: 'n1',
      serviceAccount: `sa-${i}`,
      labels: { app: `a${i % 7}` },
      reads: [],
    }));
    expect(compile(toYaml(specs)).registrations).toHaveLength(2000);
  });
});
