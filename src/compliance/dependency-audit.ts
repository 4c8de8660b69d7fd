// The dependency vulnerability audit: `npm audit --omit=dev --json` output reduced to what the control reads.

/** npm's severities, least to most severe. */
export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;

/** One of {@link SEVERITIES}. */
export type Severity = (typeof SEVERITIES)[number];

/** One advisory behind a vulnerable package. */
export interface Advisory {
  readonly title: string;
  readonly url: string;
  readonly severity: Severity;
  readonly range: string;
}

/** A vulnerable production package. */
export interface VulnerablePackage {
  readonly name: string;
  readonly severity: Severity;
  /** The vulnerable versions installed. */
  readonly range: string;
  readonly fixAvailable: boolean;
  /** Advisories against this package itself (others reach it through a dependency). */
  readonly advisories: readonly Advisory[];
  /** Vulnerable dependencies that make this package vulnerable. */
  readonly through: readonly string[];
}

/** What the audit found, or why it could not run. */
export type DependencyAudit =
  | {
      readonly ran: true;
      readonly tool: string;
      readonly auditedAt: number;
      /** The Hallmark version whose lockfile was audited. */
      readonly packageVersion: string;
      readonly lockfileSha256: string;
      readonly dependencies: number;
      readonly counts: Readonly<Record<Severity, number>>;
      readonly packages: readonly VulnerablePackage[];
    }
  | {
      readonly ran: false;
      readonly tool: string;
      readonly auditedAt: number;
      readonly packageVersion: string;
      readonly lockfileSha256: string;
      readonly reason: string;
    };

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

function text(value: unknown, max = 300): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/** Where the audit ran. */
export interface AuditContext {
  readonly auditedAt: number;
  readonly packageVersion: string;
  readonly lockfileSha256: string;
}

/**
 * Reads `npm audit --json` output (report version 2, npm 7 and later). An error document
 * (`{"error": ...}` or `{"message": ..., "statusCode": ...}`: registry unreachable, offline,
 * the advisory endpoint refused) becomes `ran: false` with its reason.
 */
export function parseNpmAudit(json: string, context: AuditContext): DependencyAudit {
  const base = { tool: 'npm audit --omit=dev', ...context };
  let report: unknown;
  try {
    report = JSON.parse(json);
  } catch {
    return { ran: false, ...base, reason: 'npm audit printed no JSON report' };
  }
  const doc = (report ?? {}) as Record<string, unknown>;
  if (doc['auditReportVersion'] !== 2 || typeof doc['vulnerabilities'] !== 'object') {
    const error = (doc['error'] ?? {}) as Record<string, unknown>;
    const reason =
      text(doc['message']) ||
      [text(error['code']), text(error['summary'])].filter((s) => s !== '').join(': ') ||
      'npm audit returned no report';
    return {
      ran: false,
      ...base,
      reason: `the registry's advisory service could not be used: ${reason}`,
    };
  }
  const packages: VulnerablePackage[] = [];
  for (const [name, raw] of Object.entries(doc['vulnerabilities'] as Record<string, unknown>)) {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const severity = isSeverity(entry['severity']) ? entry['severity'] : 'critical';
    const via = Array.isArray(entry['via']) ? (entry['via'] as unknown[]) : [];
    packages.push({
      name: text(entry['name']) || name,
      severity,
      range: text(entry['range']),
      fixAvailable: entry['fixAvailable'] !== false && entry['fixAvailable'] !== undefined,
      advisories: via
        .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null)
        .map((v) => ({
          title: text(v['title']),
          url: text(v['url']),
          severity: isSeverity(v['severity']) ? v['severity'] : severity,
          range: text(v['range']),
        })),
      through: via.filter((v): v is string => typeof v === 'string').map((v) => v.slice(0, 214)),
    });
  }
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const pkg of packages) counts[pkg.severity] += 1;
  const metadata = (doc['metadata'] ?? {}) as {
    dependencies?: { prod?: unknown; total?: unknown };
  };
  const prod = metadata.dependencies?.prod ?? metadata.dependencies?.total;
  return {
    ran: true,
    ...base,
    dependencies: typeof prod === 'number' ? prod : 0,
    counts,
    packages: packages.sort((a, b) => a.name.localeCompare(b.name)),
  };
}
