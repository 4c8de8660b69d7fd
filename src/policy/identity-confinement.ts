// Identity confinement: which SPIFFE IDs a registration may render, checked at load and at issuance.
import { SERVER_SPIFFE_PATH, type SpiffeId } from '../spiffe/index.js';
import { childPath, type ProblemList } from './policy-problem.js';
import type { CompiledRegistration } from './registration.js';
import type { SpiffeIdTemplate } from './spiffe-id-template.js';

/** Most foreign-path registrations named one by one in an audit reason; the rest are counted. */
const MAX_LISTED_FOREIGN = 20;

/** The first path segment of every namespace's own tree, `/ns/<namespace>/...`. */
const NAMESPACE_TREE = 'ns';

/** The first path segment of the server's own ID (`/hallmark/server`): its whole tree is kept. */
const SERVER_TREE = SERVER_SPIFFE_PATH.split('/')[1] as string;

/** The IDs a registration for `namespace` may render without `allowForeignPath`. */
export function namespacePrefix(namespace: string): string {
  return `/${NAMESPACE_TREE}/${namespace}/`;
}

/** What every rendering of a template for one namespace starts with. */
export interface RenderedPrefix {
  /** Literal text and the namespace, up to the first service account or label placeholder. */
  readonly prefix: string;
  /** No service account or label placeholder at all: every rendering is exactly `prefix`. */
  readonly fixed: boolean;
}

/**
 * The fixed start of a template's renderings for `namespace`. A registration selects one
 * namespace exactly, so `{namespace}` is known; service accounts and labels are not (a label
 * is chosen by whoever creates the pod), and neither is anything after them.
 */
export function renderedPrefix(template: SpiffeIdTemplate, namespace: string): RenderedPrefix {
  let prefix = '';
  for (const part of template.parts) {
    if (part.kind === 'text') prefix += part.text;
    else if (part.kind === 'namespace') prefix += namespace;
    else return { prefix, fixed: false };
  }
  return { prefix, fixed: true };
}

/** What {@link checkConfinement} found besides problems. */
export interface ConfinementReport {
  /** Registrations allowed, by `allowForeignPath`, to render outside their namespace. */
  readonly foreign: readonly CompiledRegistration[];
  /** Registrations rendering outside their namespace without it (tolerated mode only). */
  readonly unconfined: readonly CompiledRegistration[];
}

/**
 * Checks that no registration can hand a pod an identity that is not its namespace's:
 *
 * - Without `allowForeignPath`, every ID a registration renders must be under
 *   `/ns/<its namespace>/`: the fixed start of the template (namespace filled in) must begin
 *   with it, so no label or service account value can move the ID elsewhere, and a namespace
 *   named like another's prefix (`dev` and `dev2`) cannot reach into the other's tree.
 * - With it, the ID may be elsewhere, but never in another namespace's `/ns/` tree nor the
 *   server's `/hallmark/` tree (compared without case, so `/NS/prod` is refused too), and never
 *   one a registration for another namespace could also render.
 *
 * `tolerate` (documents stored before confinement existed) records registrations of the first
 * kind in `unconfined` instead of as problems; {@link isWithinBounds} refuses their pods.
 */
export function checkConfinement(
  registrations: readonly CompiledRegistration[],
  path: string,
  problems: ProblemList,
  tolerate = false,
): ConfinementReport {
  const foreign: ForeignClaim[] = [];
  const unconfined: CompiledRegistration[] = [];
  for (const registration of registrations) {
    const rendered = renderedPrefix(registration.template, registration.namespace);
    const own = namespacePrefix(registration.namespace);
    if (rendered.prefix.startsWith(own)) continue;
    const at = childPath(childPath(path, registration.index), 'spiffeId');
    if (!registration.allowForeignPath) {
      if (tolerate) unconfined.push(registration);
      else {
        problems.add(
          at,
          `renders IDs outside ${own} (its namespace's own tree): write a path under ${own}, or set allowForeignPath: true for a path outside /${NAMESPACE_TREE}/`,
        );
      }
      continue;
    }
    const reserved = reservedTreeReason(rendered, registration.namespace);
    if (reserved !== undefined) {
      problems.add(at, reserved);
      continue;
    }
    foreign.push({ registration, key: rendered.prefix.toLowerCase(), fixed: rendered.fixed });
  }
  reportCollisions(foreign, path, problems);
  return { foreign: foreign.map((c) => c.registration), unconfined };
}

/** Why a foreign template reaches a tree no registration may render into, or `undefined`. */
function reservedTreeReason(rendered: RenderedPrefix, namespace: string): string | undefined {
  const rest = rendered.prefix.slice(1);
  const slash = rest.indexOf('/');
  const head = (slash === -1 ? rest : rest.slice(0, slash)).toLowerCase();
  // A first segment with a placeholder in it is only known to start with `head`.
  const known = slash !== -1 || rendered.fixed;
  const reaches = (tree: string): boolean => (known ? head === tree : tree.startsWith(head));
  if (reaches(NAMESPACE_TREE)) {
    return `can render IDs in /${NAMESPACE_TREE}/ outside ${namespacePrefix(namespace)}: each /${NAMESPACE_TREE}/<namespace>/ tree belongs to that namespace alone, even with allowForeignPath`;
  }
  if (reaches(SERVER_TREE)) {
    return `can render IDs in /${SERVER_TREE}/, kept for the Hallmark server's own ID (${SERVER_SPIFFE_PATH})`;
  }
  return undefined;
}

interface ForeignClaim {
  readonly registration: CompiledRegistration;
  /** The rendered prefix, lowercased: IDs differing only in case count as the same. */
  readonly key: string;
  readonly fixed: boolean;
}

/**
 * Two foreign registrations of different namespaces collide when some rendering of one can
 * equal some rendering of the other. Renderings start with their prefix, and a fixed one is
 * exactly its prefix, so A and B can collide only when A's prefix starts B's: then they do
 * unless the shorter is fixed (it is shorter than every rendering of the other) or the two are
 * equal with exactly one fixed (placeholder values are never empty). Every prefix of every key
 * is looked up once, so the cost is the total length of the prefixes.
 */
function reportCollisions(
  claims: readonly ForeignClaim[],
  path: string,
  problems: ProblemList,
): void {
  // (fixed, key) -> the earliest claim of up to two namespaces: enough to find one of another.
  const index = new Map<string, ForeignClaim[]>();
  const slot = (fixed: boolean, key: string): string => `${fixed ? 'F' : 'P'}${key}`;
  for (const claim of claims) {
    const list = index.get(slot(claim.fixed, claim.key)) ?? [];
    const namespaces = list.map((c) => c.registration.namespace);
    if (list.length < 2 && !namespaces.includes(claim.registration.namespace)) list.push(claim);
    index.set(slot(claim.fixed, claim.key), list);
  }
  // later index -> earliest index it collides with
  const partner = new Map<number, CompiledRegistration>();
  const note = (a: CompiledRegistration, b: CompiledRegistration): void => {
    const [first, later] = a.index < b.index ? [a, b] : [b, a];
    const known = partner.get(later.index);
    if (known === undefined || first.index < known.index) partner.set(later.index, first);
  };
  for (const claim of claims) {
    for (let length = 1; length <= claim.key.length; length++) {
      const sub = claim.key.slice(0, length);
      const shorter = length < claim.key.length;
      const found = index.get(slot(shorter ? false : claim.fixed, sub)) ?? [];
      const other = found.find((c) => c.registration.namespace !== claim.registration.namespace);
      if (other !== undefined) note(other.registration, claim.registration);
    }
  }
  for (const [laterIndex, first] of [...partner].sort(([a], [b]) => a - b)) {
    problems.add(
      childPath(childPath(path, laterIndex), 'spiffeId'),
      `can render the same ID as workloads[${first.index}] of namespace "${first.namespace}": two namespaces must never share a SPIFFE ID`,
    );
  }
}

/**
 * The issuance-time check, after rendering: is `id` inside what `registration` may hand out?
 * Templates are checked at load, so this only refuses what slipped past that (a document
 * stored before confinement, or a rendering the load-time analysis did not foresee).
 */
export function isWithinBounds(registration: CompiledRegistration, id: SpiffeId): boolean {
  if (id.path.startsWith(namespacePrefix(registration.namespace))) return true;
  if (!registration.allowForeignPath) return false;
  const head = (id.path.split('/')[1] ?? '').toLowerCase();
  return head !== NAMESPACE_TREE && head !== SERVER_TREE;
}

/**
 * How a policy load's audit row shows the identities it lets out of their namespace:
 * `allowForeignPath: workloads[2] (ops) /ops/{serviceAccount}; ...`, or `""` when none.
 */
export function foreignPathSummary(foreign: readonly CompiledRegistration[]): string {
  if (foreign.length === 0) return '';
  const listed = foreign
    .slice(0, MAX_LISTED_FOREIGN)
    .map((r) => `workloads[${r.index}] (${r.namespace}) ${r.template.source}`);
  const more = foreign.length - listed.length;
  return `allowForeignPath: ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}
