// Compiled grants: an index from identity to allowed paths, so each check costs a few lookups.
import { parseTrustDomain } from '../spiffe/index.js';
import { readGrantList, type GrantEntry } from './grant-list.js';
import { NO_GROUPS } from './group-table.js';
import { PolicyInvalidError } from './policy-invalid-error.js';
import { ProblemList } from './policy-problem.js';
import type { PathPattern } from './path-pattern.js';

/** What a grant allows. */
export type GrantAction = 'read' | 'write';

/** The paths one identity (or identity pattern) may use for one action. */
export interface PathRules {
  /** `*` was granted: every valid path. */
  readonly all: boolean;
  /** Exact paths. */
  readonly exact: ReadonlySet<string>;
  /** Prefixes ending in `/` (from `prefix/*`): every path strictly below. */
  readonly below: ReadonlySet<string>;
}

/** The read and write rules of one identity or identity pattern. */
export interface ActionRules {
  readonly read: PathRules;
  readonly write: PathRules;
}

/**
 * Grants indexed for evaluation: exact identities in one map, SPIFFE ID patterns in another
 * keyed by their prefix (ending in `/`). A check looks the identity up once and each of its
 * ancestors once, so its cost does not grow with the number of grants to other identities.
 * Treat as opaque; build with {@link compileGrants} or `compilePolicy`.
 */
export interface CompiledGrants {
  readonly byIdentity: ReadonlyMap<string, ActionRules>;
  readonly byPrefix: ReadonlyMap<string, ActionRules>;
}

/** A grant as callers outside the policy document supply it (e.g. broker bindings). */
export interface GrantSpec {
  /** A SPIFFE ID, a SPIFFE ID pattern ending in `/*`, `key:<id>`, or a list of them. */
  readonly to: string | readonly string[];
  readonly read?: readonly string[];
  readonly write?: readonly string[];
}

/** Options for {@link compileGrants}. */
export interface CompileGrantsOptions {
  /** The server's trust domain; SPIFFE IDs outside it are refused. */
  readonly trustDomain: string;
}

/** No grants at all: everything denied. */
export const EMPTY_GRANTS: CompiledGrants = Object.freeze({
  byIdentity: new Map<string, ActionRules>(),
  byPrefix: new Map<string, ActionRules>(),
});

/**
 * Compiles grants kept outside the policy document (broker bindings: `key:<binding>` or a
 * workload's SPIFFE ID → read on `osb/<instance>/*`) into the index `canAccess` consults
 * next to the policy's own. Group names are not available here.
 *
 * @throws PolicyInvalidError `ERR_POLICY_INVALID`, problems located as `[i].to`, `[i].read[j]`.
 */
export function compileGrants(
  grants: readonly GrantSpec[],
  options: CompileGrantsOptions,
): CompiledGrants {
  const trustDomain = parseTrustDomain(options.trustDomain);
  const problems = new ProblemList();
  const entries = readGrantList(grants, '', NO_GROUPS, trustDomain, problems);
  if (!problems.isEmpty) throw new PolicyInvalidError(problems.toArray());
  return indexGrants(entries);
}

/** Rules under construction; sets are made on first use (most identities have one path). */
interface MutableRules {
  read: MutablePathRules;
  write: MutablePathRules;
}

interface MutablePathRules {
  all: boolean;
  exact: Set<string> | undefined;
  below: Set<string> | undefined;
}

/** Shared by every rule list with no entries of a kind; never mutated (typed read-only). */
const NO_PATHS: ReadonlySet<string> = new Set();

/** Builds the index from validated entries; several grants to one subject are merged. */
export function indexGrants(entries: readonly GrantEntry[]): CompiledGrants {
  const byIdentity = new Map<string, MutableRules>();
  const byPrefix = new Map<string, MutableRules>();
  for (const entry of entries) {
    for (const subject of entry.subjects) {
      const map = subject.kind === 'identity' ? byIdentity : byPrefix;
      const key = subject.kind === 'identity' ? subject.identity : subject.prefix;
      let rules = map.get(key);
      if (rules === undefined) {
        rules = { read: emptyRules(), write: emptyRules() };
        map.set(key, rules);
      }
      addPatterns(rules.read, entry.read);
      addPatterns(rules.write, entry.write);
    }
  }
  return Object.freeze({ byIdentity: freezeRules(byIdentity), byPrefix: freezeRules(byPrefix) });
}

/**
 * True when `grants` let `identity` do `action` on `path`. `path` must already be a valid
 * secret path: prefix rules rely on it having no empty, dot or trailing segments.
 */
export function grantsAllow(
  grants: CompiledGrants,
  identity: string,
  action: GrantAction,
  path: string,
): boolean {
  const exact = grants.byIdentity.get(identity);
  if (exact !== undefined && pathAllowed(exact[action], path)) return true;
  if (grants.byPrefix.size === 0 || !identity.startsWith('spiffe://')) return false;
  // Walk the identity's ancestors ("spiffe://td/", "spiffe://td/ns/", ...). Each ends in "/"
  // and stops short of the identity itself, so a pattern only matches IDs strictly below it.
  const pathStart = identity.indexOf('/', 'spiffe://'.length);
  for (let i = pathStart; i !== -1 && i + 1 < identity.length; i = identity.indexOf('/', i + 1)) {
    const rules = grants.byPrefix.get(identity.slice(0, i + 1));
    if (rules !== undefined && pathAllowed(rules[action], path)) return true;
  }
  return false;
}

function pathAllowed(rules: PathRules, path: string): boolean {
  if (rules.all || rules.exact.has(path)) return true;
  if (rules.below.size === 0) return false;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (rules.below.has(path.slice(0, i + 1))) return true;
  }
  return false;
}

function emptyRules(): MutablePathRules {
  return { all: false, exact: undefined, below: undefined };
}

function addPatterns(rules: MutablePathRules, patterns: readonly PathPattern[]): void {
  for (const pattern of patterns) {
    if (pattern.kind === 'all') rules.all = true;
    else if (pattern.kind === 'exact') (rules.exact ??= new Set()).add(pattern.path);
    else (rules.below ??= new Set()).add(pattern.prefix);
  }
}

function freezePathRules(rules: MutablePathRules): PathRules {
  return Object.freeze({
    all: rules.all,
    exact: rules.exact ?? NO_PATHS,
    below: rules.below ?? NO_PATHS,
  });
}

function freezeRules(map: Map<string, MutableRules>): ReadonlyMap<string, ActionRules> {
  const out = new Map<string, ActionRules>();
  for (const [key, rules] of map) {
    out.set(
      key,
      Object.freeze({ read: freezePathRules(rules.read), write: freezePathRules(rules.write) }),
    );
  }
  return out;
}
