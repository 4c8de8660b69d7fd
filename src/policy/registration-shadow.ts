// Shadowed registrations: entries an earlier one always wins over, found through an index.
import { childPath, type ProblemList } from './policy-problem.js';
import type { CompiledRegistration } from './registration.js';

/**
 * First match wins, so a registration that selects no pod an earlier one does not already
 * select can never be used. That is always a mistake in the document, and silently ignoring
 * it would give the operator a different identity than the one they wrote.
 *
 * An earlier registration E catches every pod a later one L selects when they have the same
 * namespace, E names no service account or L's, E's selector labels are a subset of L's, and
 * every label E's template reads is one L guarantees non-empty (selected with a non-empty
 * value, or read by L's own template). So E's demands, as a set of features (`label=value`
 * selected, `label` read), must be a subset of what L offers. Each registration is filed in a
 * trie of its sorted features; L walks only the trie paths made of its own features, pruned
 * by the earliest registration below each node. The cost is bounded by the registrations
 * filed (never 2^labels), and a policy of distinct selectors walks a handful of nodes each.
 */
export function reportShadowed(
  registrations: readonly CompiledRegistration[],
  path: string,
  problems: ProblemList,
): void {
  // namespace -> service account ('' for none) -> trie of what is filed there
  const namespaces = new Map<string, Map<string, TrieNode>>();
  for (const later of registrations) {
    let accounts = namespaces.get(later.namespace);
    if (accounts === undefined) namespaces.set(later.namespace, (accounts = new Map()));
    // Only an earlier registration of the same namespace, naming no service account or this
    // one's, can catch it: skip the walk when there is none.
    const tries = [accounts.get(NO_ACCOUNT)];
    if (later.serviceAccount !== undefined) tries.push(accounts.get(later.serviceAccount));
    const offered = offers(later);
    let earliest = NONE;
    for (const trie of tries) if (trie !== undefined) earliest = walk(trie, offered, 0, earliest);
    if (earliest !== NONE) {
      problems.add(
        childPath(path, later.index),
        `can never match: workloads[${earliest}] comes first and selects every pod this one selects`,
      );
    }
    const own = later.serviceAccount ?? NO_ACCOUNT;
    let trie = accounts.get(own);
    if (trie === undefined) accounts.set(own, (trie = newNode()));
    file(trie, demands(later), later.index);
  }
}

/** Service account names are never empty, so `''` stands for "no service account". */
const NO_ACCOUNT = '';

/** No registration index (larger than any). */
const NONE = Number.MAX_SAFE_INTEGER;

/** A node of the trie: the registrations whose sorted demands start with the path to it. */
interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** The earliest registration whose demands end here. */
  here: number;
  /** The earliest registration filed here or below (prunes the walk). */
  below: number;
}

function newNode(): TrieNode {
  return { children: new Map(), here: NONE, below: NONE };
}

function file(root: TrieNode, features: readonly string[], index: number): void {
  let node = root;
  node.below = Math.min(node.below, index);
  for (const feature of features) {
    let child = node.children.get(feature);
    if (child === undefined) node.children.set(feature, (child = newNode()));
    node = child;
    node.below = Math.min(node.below, index);
  }
  node.here = Math.min(node.here, index);
}

/**
 * The earliest registration filed under `node` whose remaining demands are all among
 * `offered[from..]` (sorted), if earlier than `best`. Each step follows a feature L offers,
 * so only paths made of L's features are visited, each once.
 */
function walk(node: TrieNode, offered: readonly string[], from: number, best: number): number {
  if (node.here < best) best = node.here;
  for (let i = from; i < offered.length && node.below < best; i++) {
    const child = node.children.get(offered[i] as string);
    if (child !== undefined && child.below < best) best = walk(child, offered, i + 1, best);
  }
  return best;
}

/** What a registration demands of a pod: its selector labels, then the label keys it reads. */
function demands(registration: CompiledRegistration): string[] {
  const features = new Set<string>();
  for (const [name, value] of Object.entries(registration.labels))
    features.add(labelFeature(name, value));
  for (const name of registration.template.labelKeys) features.add(readFeature(name));
  return [...features].sort();
}

/** What every pod a registration selects offers: its labels, and the keys it guarantees. */
function offers(registration: CompiledRegistration): string[] {
  const features = new Set<string>();
  for (const [name, value] of Object.entries(registration.labels)) {
    features.add(labelFeature(name, value));
    if (value !== '') features.add(readFeature(name));
  }
  for (const name of registration.template.labelKeys) features.add(readFeature(name));
  return [...features].sort();
}

// Label keys and values never contain control characters, so these keep the fields apart.
const labelFeature = (name: string, value: string): string => `\u0001${name}\u0003${value}`;
const readFeature = (name: string): string => `\u0002${name}`;

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
