// RBAC as the test API enforces it: the ClusterRole rules that deploy/rbac.yaml binds to a subject.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { RequestAttributes } from './request-attributes.js';

/** One PolicyRule of a ClusterRole (rbac.authorization.k8s.io/v1). */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

/** The rules in force for one ServiceAccount, as read from an RBAC manifest. */
export interface RbacPolicy {
  /** `system:serviceaccount:<namespace>:<name>` of the subject the rules were collected for. */
  username: string;
  rules: readonly PolicyRule[];
}

/** Path of the RBAC manifest the test API enforces, relative to the repository root. */
export const RBAC_MANIFEST_URL = new URL('../../deploy/rbac.yaml', import.meta.url);

interface Manifest {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
  rules?: unknown;
  roleRef?: { kind?: unknown; name?: unknown };
  subjects?: unknown;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Reads an RBAC manifest and returns the rules its ClusterRoleBindings grant to the given
 * ServiceAccount (default: the first ServiceAccount the manifest declares).
 */
export function loadRbacPolicy(
  path: string | URL = RBAC_MANIFEST_URL,
  subject?: { namespace: string; name: string },
): RbacPolicy {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null && typeof d === 'object');
  const account =
    subject ??
    docs
      .filter((d) => d.kind === 'ServiceAccount')
      .map((d) => ({
        namespace: String(d.metadata?.namespace),
        name: String(d.metadata?.name),
      }))[0];
  if (account === undefined) {
    throw new Error(`no ServiceAccount in ${String(path)}`);
  }
  const roles = new Map(
    docs
      .filter((d) => d.kind === 'ClusterRole')
      .map((d) => [String(d.metadata?.name), Array.isArray(d.rules) ? d.rules : []] as const),
  );
  const rules: PolicyRule[] = [];
  for (const binding of docs.filter((d) => d.kind === 'ClusterRoleBinding')) {
    const subjects = Array.isArray(binding.subjects) ? (binding.subjects as Manifest[]) : [];
    const bound = subjects.some(
      (s) =>
        (s as { kind?: unknown }).kind === 'ServiceAccount' &&
        (s as { name?: unknown }).name === account.name &&
        (s as { namespace?: unknown }).namespace === account.namespace,
    );
    if (!bound || binding.roleRef?.kind !== 'ClusterRole') continue;
    for (const raw of roles.get(String(binding.roleRef.name)) ?? []) {
      const r = raw as Record<string, unknown>;
      rules.push({
        apiGroups: strings(r.apiGroups),
        resources: strings(r.resources),
        verbs: strings(r.verbs),
        resourceNames: strings(r.resourceNames),
        nonResourceURLs: strings(r.nonResourceURLs),
      });
    }
  }
  return {
    username: `system:serviceaccount:${account.namespace}:${account.name}`,
    rules,
  };
}

function has(list: readonly string[], value: string): boolean {
  return list.includes('*') || list.includes(value);
}

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.isResourceRequest) {
    // Non-resource URLs match exactly or by a trailing-`*` prefix, as the RBAC authorizer does.
    return rule.nonResourceURLs.some((u) =>
      u.endsWith('*') ? a.path.startsWith(u.slice(0, -1)) : u === a.path,
    );
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  if (!has(rule.resources, resource)) return false;
  // resourceNames never match create or collection requests (nothing is named yet).
  return rule.resourceNames.length === 0 || (a.name !== '' && rule.resourceNames.includes(a.name));
}

/** True when some rule of the policy allows the request (RBAC is purely additive). */
export function isAllowed(policy: RbacPolicy, attributes: RequestAttributes): boolean {
  return policy.rules.some((rule) => ruleAllows(rule, attributes));
}
