// Vulnerability management: known vulnerabilities in the production dependency tree.
import { fail, isoTime, notApplicable, pass, type Control, type Evidence } from './control.js';
import { SEVERITIES, type Severity } from './dependency-audit.js';

/** Severities that fail the control (PCI DSS v4.0 6.3.3: critical and high first). */
const FAILING: readonly Severity[] = ['high', 'critical'];

const dependencyVulnerabilities: Control = {
  id: 'HM-DEP-01',
  area: 'vulnerability-management',
  title: 'No known high or critical vulnerabilities in production dependencies',
  checks:
    "npm audit --omit=dev, run by hallmark compliance against the lockfile of the same Hallmark version as the server, reports no package of high or critical severity in the production dependency tree; moderate and lower findings are listed. Not applicable when the registry's advisory service cannot be reached, or the audited lockfile is of another version.",
  references: {
    pciDss: ['6.3.1', '6.3.2', '6.3.3'],
    soc2: ['CC7.1'],
    nist80053: ['RA-5', 'SI-2', 'SR-3'],
  },
  remediation:
    'Upgrade to a Hallmark release whose lockfile fixes the advisories (npm audit fix --omit=dev on a clone shows the fixed versions), rebuild the image, and roll it out.',
  evaluate({ dependencies, server }) {
    if (dependencies === undefined) {
      return notApplicable(
        'no dependency audit was supplied (hallmark compliance runs npm audit where the registry is reachable)',
      );
    }
    const context: Evidence = {
      tool: dependencies.tool,
      auditedAt: isoTime(dependencies.auditedAt),
      auditedVersion: dependencies.packageVersion,
      serverVersion: server.version,
      lockfileSha256: dependencies.lockfileSha256,
    };
    if (!dependencies.ran) return notApplicable(dependencies.reason, context);
    if (dependencies.packageVersion !== server.version) {
      return notApplicable(
        `the audited lockfile is of Hallmark ${dependencies.packageVersion}, the server runs ${server.version}`,
        context,
      );
    }
    const evidence: Evidence = {
      ...context,
      productionDependencies: dependencies.dependencies,
      counts: Object.fromEntries(SEVERITIES.map((s) => [s, dependencies.counts[s]])),
      packages: dependencies.packages.map((p) => ({
        name: p.name,
        severity: p.severity,
        range: p.range,
        fixAvailable: p.fixAvailable,
        advisories: p.advisories.map((a) => `${a.severity}: ${a.title} ${a.url}`),
        through: [...p.through],
      })),
    };
    const failing = dependencies.packages.filter((p) => FAILING.includes(p.severity));
    if (failing.length > 0) {
      return fail(
        `vulnerable production packages: ${failing.map((p) => `${p.name} ${p.range} (${p.severity}${p.advisories[0] ? `: ${p.advisories[0].title}` : ''})`).join('; ')}`,
        evidence,
      );
    }
    return pass(
      `no high or critical advisories in ${dependencies.dependencies} production dependencies (${dependencies.packages.length} lower-severity finding(s))`,
      evidence,
    );
  },
};

/** The vulnerability-management controls. */
export const DEPENDENCY_CONTROLS: readonly Control[] = [dependencyVulnerabilities];
