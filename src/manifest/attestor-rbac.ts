// RBAC: the attestor's ClusterRole must grant exactly TokenReview create and pod get, nothing else.
import type { V1ClusterRole, V1PolicyRule } from '@kubernetes/client-node';

/** The only permissions attestation needs (docs/security-model.md, deploy/rbac.yaml). */
export const ATTESTOR_RULES: readonly Readonly<V1PolicyRule>[] = [
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
];

const RULE_FIELDS = ['apiGroups', 'resources', 'verbs'];

function sameList(actual: readonly string[] | undefined, expected: readonly string[]): boolean {
  return (
    actual !== undefined &&
    actual.length === expected.length &&
    actual.every((item, i) => item === expected[i])
  );
}

/**
 * Every difference between the role and {@link ATTESTOR_RULES}: a missing or extra rule, an
 * extra verb, resource or API group (including `*`), or any other rule field
 * (`resourceNames`, `nonResourceURLs`) or an `aggregationRule`. Empty when exact.
 */
export function clusterRoleProblems(role: V1ClusterRole): string[] {
  const problems: string[] = [];
  if (role.aggregationRule !== undefined) problems.push('aggregationRule must not be set');
  const rules = role.rules ?? [];
  if (rules.length !== ATTESTOR_RULES.length) {
    problems.push(`expected ${ATTESTOR_RULES.length} rules, found ${rules.length}`);
  }
  rules.forEach((rule, i) => {
    const expected = ATTESTOR_RULES[i];
    if (!expected) return;
    for (const field of Object.keys(rule)) {
      if (!RULE_FIELDS.includes(field)) problems.push(`rule ${i}: unexpected field ${field}`);
    }
    for (const field of ['apiGroups', 'resources', 'verbs'] as const) {
      if (!sameList(rule[field], expected[field] ?? [])) {
        problems.push(
          `rule ${i}: ${field} is ${JSON.stringify(rule[field])}, expected ${JSON.stringify(expected[field])}`,
        );
      }
    }
  });
  return problems;
}
