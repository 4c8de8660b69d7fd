// Shadowed registrations: entries an earlier one always wins over, found through an index.
import { childPath, type ProblemList } from './policy-problem.js';
import type { CompiledRegistration } from './registration.js';

/**
 * Above this many selector labels plus label keys, a registration is checked against every
 * earlier one of its namespace instead of through the index (the index enumerates subsets).
 */
const MAX_INDEXED_FEATURES = 10;

/**
 * First match wins, so a registration that selects no pod an earlier one does not already
 * select can never be used. That is always a mistake in the document, and silently ignoring
 * it would give the operator a different identity than the one they wrote.
 *
 * An earlier registration E catches every pod a later one L selects when they have the same
 * namespace, E names no service account or L's, E's selector labels are a subset of L's, and
 * every label E's template reads is one L guarantees non-empty (selected with a non-empty
 * value, or read by L's own template). Each registration is filed under the exact key of
 * what it demands; L looks up every key it satisfies — the subsets of its labels and of the
 * keys it guarantees — so the cost is linear in the registrations (times 2^features, with
 * features a handful in practice) instead of quadratic.
 */
export function reportShadowed(
  registrations: readonly CompiledRegistration[],
  path: string,
  problems: ProblemList,
): void {
  // demand key -> the earliest registration filed under it
  const filed = new Map<string, CompiledRegistration>();
  const byNamespace = new Map<string, CompiledRegistration[]>();
  for (const later of registrations) {
    // Only an earlier registration of the same namespace can catch it.
    const earlier = byNamespace.has(later.namespace)
      ? earliestShadow(later, filed, byNamespace)
      : undefined;
    if (earlier !== undefined) {
      problems.add(
        childPath(path, later.index),
        `can never match: workloads[${earlier.index}] comes first and selects every pod this one selects`,
      );
    }
    const key = demandKey(later);
    if (!filed.has(key)) filed.set(key, later);
    const list = byNamespace.get(later.namespace) ?? [];
    list.push(later);
    byNamespace.set(later.namespace, list);
  }
}

function earliestShadow(
  later: CompiledRegistration,
  filed: ReadonlyMap<string, CompiledRegistration>,
  byNamespace: ReadonlyMap<string, readonly CompiledRegistration[]>,
): CompiledRegistration | undefined {
  const pairs = Object.keys(later.labels)
    .sort()
    .map((key) => [key, later.labels[key] as string] as const);
  const guaranteed = [
    ...new Set([
      ...pairs.filter(([, value]) => value !== '').map(([key]) => key),
      ...later.template.labelKeys,
    ]),
  ].sort();
  if (pairs.length + guaranteed.length > MAX_INDEXED_FEATURES) {
    return (byNamespace.get(later.namespace) ?? []).find((e) => selectsEverythingOf(e, later));
  }
  const accounts = later.serviceAccount === undefined ? [null] : [null, later.serviceAccount];
  let earliest: CompiledRegistration | undefined;
  for (const account of accounts) {
    for (const pairSubset of subsets(pairs)) {
      for (const keySubset of subsets(guaranteed)) {
        const found = filed.get(keyOf(later.namespace, account, pairSubset, keySubset));
        if (found !== undefined && (earliest === undefined || found.index < earliest.index)) {
          earliest = found;
        }
      }
    }
  }
  return earliest;
}

/** The exact key a registration is filed under: what a later one must satisfy to be caught. */
function demandKey(registration: CompiledRegistration): string {
  const pairs = Object.keys(registration.labels)
    .sort()
    .map((key) => [key, registration.labels[key] as string] as const);
  const reads = [...new Set(registration.template.labelKeys)].sort();
  return keyOf(registration.namespace, registration.serviceAccount ?? null, pairs, reads);
}

/** Names, label keys and values never contain control characters, so these separate fields. */
function keyOf(
  namespace: string,
  serviceAccount: string | null,
  pairs: readonly (readonly [string, string])[],
  reads: readonly string[],
): string {
  let key = `${namespace}\u0001${serviceAccount ?? '\u0002'}`;
  for (const [name, value] of pairs) key += `\u0001${name}\u0003${value}`;
  key += '\u0004';
  for (const name of reads) key += `\u0001${name}`;
  return key;
}

/** Every subset of `items`, each keeping the order of `items` (so sorted input gives sorted subsets). */
function subsets<T>(items: readonly T[]): T[][] {
  let out: T[][] = [[]];
  for (const item of items) out = out.concat(out.map((subset) => [...subset, item]));
  return out;
}

/**
 * True when every pod `later` matches is also matched by `earlier` (the direct rule, used for
 * registrations with too many labels to index).
 */
export function selectsEverythingOf(
  earlier: CompiledRegistration,
  later: CompiledRegistration,
): boolean {
  if (earlier.namespace !== later.namespace) return false;
  if (earlier.serviceAccount !== undefined && earlier.serviceAccount !== later.serviceAccount) {
    return false;
  }
  for (const [key, value] of Object.entries(earlier.labels)) {
    if (ownLabel(later.labels, key) !== value) return false;
  }
  // A pod matching `later` carries a non-empty value for each label `later` requires or reads.
  for (const key of earlier.template.labelKeys) {
    const required = ownLabel(later.labels, key);
    const present =
      (required !== undefined && required !== '') || later.template.labelKeys.includes(key);
    if (!present) return false;
  }
  return true;
}

function ownLabel(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
