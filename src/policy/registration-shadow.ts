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
  // namespace -> service account ('' for none) -> what is filed there
  const namespaces = new Map<string, Map<string, Bucket>>();
  for (const later of registrations) {
    const pairs = sortedPairs(later.labels);
    let accounts = namespaces.get(later.namespace);
    if (accounts === undefined) namespaces.set(later.namespace, (accounts = new Map()));
    // Only an earlier registration of the same namespace, naming no service account or this
    // one's, can catch it: skip the lookups when there is none.
    const candidates = [accounts.get(NO_ACCOUNT)];
    if (later.serviceAccount !== undefined) candidates.push(accounts.get(later.serviceAccount));
    const buckets = candidates.filter((b): b is Bucket => b !== undefined);
    const earlier = buckets.length === 0 ? undefined : earliestShadow(later, pairs, buckets);
    if (earlier !== undefined) {
      problems.add(
        childPath(path, later.index),
        `can never match: workloads[${earlier.index}] comes first and selects every pod this one selects`,
      );
    }
    const own = later.serviceAccount ?? NO_ACCOUNT;
    let bucket = accounts.get(own);
    if (bucket === undefined) accounts.set(own, (bucket = { list: [], filed: new Map() }));
    const reads =
      later.template.labelKeys.length > 1
        ? [...new Set(later.template.labelKeys)].sort()
        : later.template.labelKeys;
    const key = demandKey(pairs, reads);
    if (!bucket.filed.has(key)) bucket.filed.set(key, later);
    bucket.list.push(later);
  }
}

/** Service account names are never empty, so `''` stands for "no service account". */
const NO_ACCOUNT = '';

/** The registrations of one namespace and service account (or none), in document order. */
interface Bucket {
  readonly list: CompiledRegistration[];
  /** Demand key -> the earliest registration filed under it. */
  readonly filed: Map<string, CompiledRegistration>;
}

function earliestShadow(
  later: CompiledRegistration,
  pairs: readonly (readonly [string, string])[],
  buckets: readonly Bucket[],
): CompiledRegistration | undefined {
  const guaranteed = new Set(later.template.labelKeys);
  for (const [key, value] of pairs) if (value !== '') guaranteed.add(key);
  const keys = [...guaranteed].sort();
  let earliest: CompiledRegistration | undefined;
  const consider = (found: CompiledRegistration | undefined): void => {
    if (found !== undefined && (earliest === undefined || found.index < earliest.index)) {
      earliest = found;
    }
  };
  if (pairs.length + keys.length > MAX_INDEXED_FEATURES) {
    for (const bucket of buckets) consider(bucket.list.find((e) => selectsEverythingOf(e, later)));
    return earliest;
  }
  for (let pairMask = 0; pairMask < 1 << pairs.length; pairMask++) {
    const pairSubset = pairs.filter((_, i) => (pairMask >> i) & 1);
    for (let keyMask = 0; keyMask < 1 << keys.length; keyMask++) {
      const key = demandKey(
        pairSubset,
        keys.filter((_, i) => (keyMask >> i) & 1),
      );
      for (const bucket of buckets) consider(bucket.filed.get(key));
    }
  }
  return earliest;
}

function sortedPairs(labels: Readonly<Record<string, string>>): (readonly [string, string])[] {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  return names.map((name) => [name, labels[name] as string] as const);
}

/**
 * What a registration demands beyond its namespace and service account: its selector labels,
 * then the label keys its template reads. Label keys and values never contain control
 * characters, so these separate the fields.
 */
function demandKey(
  pairs: readonly (readonly [string, string])[],
  reads: readonly string[],
): string {
  let key = '';
  for (const [name, value] of pairs) key += `\u0001${name}\u0003${value}`;
  key += '\u0004';
  for (const name of reads) key += `\u0001${name}`;
  return key;
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
