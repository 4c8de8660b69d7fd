// Least-privilege controls: the policy's default deny, identity confinement, RBAC and Pod Security.
import type { V1ClusterRole, V1PolicyRule, V1PodSpec } from '@kubernetes/client-node';
import {
  clusterRoleProblems,
  describeObject,
  podSecurityProblems,
  podTemplatesOf,
  type KubeObject,
} from '../manifest/index.js';
import { fail, notApplicable, pass, type Control, type Evidence } from './control.js';

/** The admin API key's identity: the one subject that may hold `*`. */
const ADMIN_IDENTITY = 'key:admin';

const policyDefaultDeny: Control = {
  id: 'HM-PRIV-01',
  area: 'least-privilege',
  title: 'Secret access is deny-by-default and narrowly granted',
  checks:
    'In the policy in force, no grant names every workload of the trust domain (spiffe://<td>/* or spiffe://<td>/ns/*), and no subject other than the admin key (key:admin) is granted "*" (every secret path) for read or write. Anything not granted is denied by the evaluator.',
  references: {
    pciDss: ['7.2.1', '7.2.5', '7.3.3'],
    soc2: ['CC6.1', 'CC6.3'],
    nist80053: ['AC-3', 'AC-6'],
  },
  remediation:
    'Replace grants to every workload and "*" paths with grants to the workloads (or groups) that need them, on the paths they need (payments/*), and load the policy again (hallmark policy load).',
  evaluate({ policy, server }) {
    const everyone = new Set([
      `spiffe://${server.trustDomain}/*`,
      `spiffe://${server.trustDomain}/ns/*`,
    ]);
    const problems: string[] = [];
    for (const grant of policy.grants) {
      if (everyone.has(grant.subject))
        problems.push(`${grant.subject} (every workload) is granted secrets`);
      if (grant.subject !== ADMIN_IDENTITY) {
        if (grant.readAll) problems.push(`${grant.subject} may read "*"`);
        if (grant.writeAll) problems.push(`${grant.subject} may write "*"`);
      }
    }
    const evidence: Evidence = {
      policyVersion: policy.version,
      policySha256: policy.sha256,
      grantSubjects: policy.grants.length,
      findings: problems,
    };
    return problems.length > 0
      ? fail(`policy version ${policy.version} grants too widely: ${problems.join('; ')}`, evidence)
      : pass(
          `policy version ${policy.version}: ${policy.grants.length} grant subject(s), none to every workload, "*" only to ${ADMIN_IDENTITY}`,
          evidence,
        );
  },
};

const identityConfinement: Control = {
  id: 'HM-PRIV-02',
  area: 'least-privilege',
  title: 'Workload identities confined to their namespace',
  checks:
    'Every registration of the policy in force renders SPIFFE IDs under /ns/<its namespace>/ unless it carries allowForeignPath: true (those are listed in the evidence for review); a registration stored before confinement existed that renders elsewhere without the flag fails.',
  references: {
    pciDss: ['7.2.5', '8.2.1'],
    soc2: ['CC6.1', 'CC6.3'],
    nist80053: ['AC-6', 'IA-9'],
  },
  remediation:
    'Change the spiffeId of each listed registration to a path under /ns/<namespace>/, or mark it allowForeignPath: true after review, and load the policy again (hallmark policy load).',
  evaluate({ policy }) {
    const foreign = policy.registrations.filter((r) => r.allowForeignPath);
    const unconfined = policy.registrations.filter((r) => r.unconfined);
    const describe = (r: (typeof policy.registrations)[number]): string =>
      `workloads[${r.index}] (${r.namespace}) ${r.template}`;
    const evidence: Evidence = {
      policyVersion: policy.version,
      registrations: policy.registrations.length,
      allowForeignPath: foreign.map(describe),
      unconfined: unconfined.map(describe),
    };
    if (unconfined.length > 0) {
      return fail(
        `registrations render SPIFFE IDs outside their namespace without allowForeignPath: ${unconfined.map(describe).join('; ')}`,
        evidence,
      );
    }
    return pass(
      `${policy.registrations.length} registration(s) confined to their namespace, ${foreign.length} explicitly allowed a foreign path`,
      evidence,
    );
  },
};

const NO_MANIFESTS =
  'no Kubernetes manifests were supplied (hallmark compliance --manifests DIR sends them; the server cannot see how it was deployed)';

function ruleText(rule: V1PolicyRule): string {
  const groups = (rule.apiGroups ?? []).map((g) => (g === '' ? 'core' : g)).join(',');
  const extra = [
    ...(rule.resourceNames ? [`names=${rule.resourceNames.join(',')}`] : []),
    ...(rule.nonResourceURLs ? [`urls=${rule.nonResourceURLs.join(',')}`] : []),
  ];
  return `${groups}/${(rule.resources ?? []).join(',')}: ${(rule.verbs ?? []).join(',')}${extra.length ? ` (${extra.join(' ')})` : ''}`;
}

interface ServerAccount {
  readonly namespace: string;
  readonly name: string;
  readonly where: string;
}

/** The service accounts Hallmark server pods run as: containers started with the `server` argument. */
function serverAccounts(objects: readonly KubeObject[]): ServerAccount[] {
  const accounts: ServerAccount[] = [];
  for (const object of objects) {
    for (const { template, where } of podTemplatesOf(object)) {
      const spec = template.spec as V1PodSpec | undefined;
      if (spec === undefined) continue;
      if (!spec.containers.some((c) => (c.args ?? [])[0] === 'server')) continue;
      accounts.push({
        namespace: object.metadata?.namespace ?? 'default',
        name: spec.serviceAccountName ?? 'default',
        where,
      });
    }
  }
  return accounts;
}

interface Binding {
  readonly kind: string;
  readonly metadata?: { name?: string; namespace?: string };
  readonly roleRef?: { kind?: string; name?: string };
  readonly subjects?: { kind?: string; name?: string; namespace?: string }[];
}

const attestorRbac: Control = {
  id: 'HM-PRIV-03',
  area: 'least-privilege',
  title: 'Kubernetes RBAC of the server is exactly what attestation needs',
  checks:
    'In the supplied manifests, the service account of the Hallmark server Deployment is bound to exactly one role, and that role grants exactly "authentication.k8s.io tokenreviews: create" and "core pods: get": no list, watch, exec, secrets, wildcard, resourceNames or aggregation.',
  references: {
    pciDss: ['7.2.1', '7.2.2', '7.2.5'],
    soc2: ['CC6.1', 'CC6.3'],
    nist80053: ['AC-6', 'CM-7'],
  },
  remediation:
    "Bind the server's service account only to the ClusterRole of deploy/rbac.yaml (hallmark-attestor) and remove every other rule and binding; apply the manifests again.",
  evaluate(snapshot) {
    const manifests = snapshot.manifests;
    if (manifests === undefined) return notApplicable(NO_MANIFESTS);
    const objects = manifests.objects.map((o) => o.object);
    const accounts = serverAccounts(objects);
    const evidence: Record<string, Evidence[string]> = { source: manifests.source };
    if (accounts.length === 0) {
      return fail(
        'no Hallmark server workload (a container started with "server") is among the manifests',
        evidence,
      );
    }
    evidence['serverServiceAccounts'] = accounts.map(
      (a) => `${a.namespace}/${a.name} (${a.where})`,
    );
    const bindings = objects.filter(
      (o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding',
    ) as unknown as Binding[];
    const bound = bindings.filter((b) =>
      (b.subjects ?? []).some(
        (s) =>
          s.kind === 'ServiceAccount' &&
          accounts.some(
            (a) => a.name === s.name && a.namespace === (s.namespace ?? b.metadata?.namespace),
          ),
      ),
    );
    evidence['bindings'] = bound.map(
      (b) =>
        `${b.kind} ${b.metadata?.name ?? ''} -> ${b.roleRef?.kind ?? ''} ${b.roleRef?.name ?? ''}`,
    );
    const roles = bound.map((b) =>
      objects.find(
        (o) =>
          o.kind === b.roleRef?.kind &&
          o.metadata?.name === b.roleRef.name &&
          (o.kind === 'ClusterRole' || o.metadata?.namespace === b.metadata?.namespace),
      ),
    );
    const found = roles.filter((r): r is KubeObject => r !== undefined);
    evidence['rules'] = found.flatMap((r) =>
      ((r as unknown as V1ClusterRole).rules ?? []).map(
        (rule) => `${describeObject(r)}: ${ruleText(rule)}`,
      ),
    );
    if (bound.length === 0)
      return fail(
        "the server's service account is bound to no role: attestation cannot work",
        evidence,
      );
    const missing = bound.filter((_, i) => roles[i] === undefined);
    if (missing.length > 0) {
      return fail(
        `bound to roles not in the manifests, which cannot be checked: ${missing.map((b) => `${b.roleRef?.kind ?? ''} ${b.roleRef?.name ?? ''}`).join(', ')}`,
        evidence,
      );
    }
    if (found.length > 1) {
      return fail(
        `the server's service account is bound to ${found.length} roles: ${found.map(describeObject).join(', ')}`,
        evidence,
      );
    }
    const role = found[0] as KubeObject;
    const problems = clusterRoleProblems(role as unknown as V1ClusterRole);
    return problems.length > 0
      ? fail(
          `${describeObject(role)} grants more or other than attestation needs: ${problems.join('; ')}`,
          evidence,
        )
      : pass(`${describeObject(role)} grants exactly tokenreviews: create and pods: get`, evidence);
  },
};

const RESTRICTED = 'restricted';

const podSecurityRestricted: Control = {
  id: 'HM-PRIV-04',
  area: 'least-privilege',
  title: 'Pods run under Pod Security "restricted"',
  checks:
    'Every Namespace in the supplied manifests enforces Pod Security "restricted" (label pod-security.kubernetes.io/enforce: restricted), every pod template is in a namespace the manifests define, and every pod template meets that profile in full: non-root uid and gid, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, read-only root filesystem, no host namespaces, ports or host volumes.',
  references: {
    pciDss: ['2.2.1', '2.2.6'],
    soc2: ['CC6.1', 'CC7.1'],
    nist80053: ['CM-6', 'CM-7', 'AC-6'],
  },
  remediation:
    'Include the Namespace objects with the manifests, label each pod-security.kubernetes.io/enforce=restricted, and give each pod and container the securityContext of deploy/server.yaml; apply the manifests again.',
  evaluate(snapshot) {
    const manifests = snapshot.manifests;
    if (manifests === undefined) return notApplicable(NO_MANIFESTS);
    const objects = manifests.objects.map((o) => o.object);
    const problems: string[] = [];
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    for (const ns of namespaces) {
      const level = ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
      if (level !== RESTRICTED)
        problems.push(`${describeObject(ns)} enforces "${level ?? 'nothing'}"`);
    }
    const pods: string[] = [];
    const podNamespaces = new Set<string>();
    for (const object of objects) {
      for (const { template, where } of podTemplatesOf(object)) {
        pods.push(where);
        podNamespaces.add(object.metadata?.namespace ?? 'default');
        const spec = template.spec as V1PodSpec | undefined;
        if (spec === undefined) continue;
        for (const problem of podSecurityProblems(spec)) problems.push(`${where}: ${problem}`);
      }
    }
    // The label on the Namespace is what makes the API server enforce the profile; pods in a
    // namespace the manifests do not define may land where nothing is enforced.
    const defined = new Set(namespaces.map((ns) => ns.metadata?.name ?? ''));
    for (const name of [...podNamespaces].sort()) {
      if (!defined.has(name)) {
        problems.push(
          `pods run in namespace "${name}", which the manifests do not define: its Pod Security enforcement cannot be checked`,
        );
      }
    }
    const evidence: Evidence = {
      source: manifests.source,
      namespaces: namespaces.map(
        (ns) =>
          `${ns.metadata?.name ?? ''}: enforce=${ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'] ?? 'unset'}`,
      ),
      podTemplates: pods,
      findings: problems,
    };
    if (pods.length === 0 && namespaces.length === 0) {
      return fail('the manifests hold no namespace and no pod template to check', evidence);
    }
    return problems.length > 0
      ? fail(`not "restricted": ${problems.join('; ')}`, evidence)
      : pass(
          `${namespaces.length} namespace(s) enforce "restricted" and ${pods.length} pod template(s) meet it`,
          evidence,
        );
  },
};

/** The least-privilege controls, in id order. */
export const PRIVILEGE_CONTROLS: readonly Control[] = [
  policyDefaultDeny,
  identityConfinement,
  attestorRbac,
  podSecurityRestricted,
];
