// The compliance report: results, the inputs they came from, its canonical form and digest.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { ControlResult } from './control-registry.js';
import type { InstallationSnapshot } from './installation-snapshot.js';

/** Identifies the report's JSON shape; a change to it changes this. */
export const REPORT_FORMAT = 'hallmark-compliance-report/1';

/** The detached JWS over the report (RFC 7515 Appendix F). */
export interface ReportSignature {
  /** `BASE64URL(header)..BASE64URL(signature)`: the payload is the canonical report. */
  readonly jws: string;
  readonly kid: string;
  readonly alg: string;
}

/** A compliance report as `GET /v1/compliance` returns it and `--json` writes it. */
export interface ComplianceReport {
  readonly format: typeof REPORT_FORMAT;
  readonly generatedAt: string;
  readonly installation: {
    readonly trustDomain: string;
    readonly publicUrl: string;
    readonly serverVersion: string;
  };
  readonly summary: {
    readonly total: number;
    readonly pass: number;
    readonly fail: number;
    readonly notApplicable: number;
    /** True when no control failed: `hallmark compliance` exits 0. */
    readonly compliant: boolean;
  };
  /** What the caller supplied, so an assessor can tie the verdicts to files. */
  readonly inputs: {
    readonly manifests: {
      readonly source: string;
      readonly files: readonly { readonly path: string; readonly sha256: string }[];
    } | null;
    readonly dependencies: {
      readonly tool: string;
      readonly auditedAt: string;
      readonly packageVersion: string;
      readonly lockfileSha256: string;
    } | null;
  };
  readonly controls: readonly ControlResult[];
  /** Absent when the server has no key to sign with. */
  readonly signature?: ReportSignature;
}

/** What the human reports say of a report without a signature, so no reader mistakes it for signed. */
export const UNSIGNED_NOTE =
  'unsigned: no signature is attached, so hallmark compliance verify refuses it; only the digest in its compliance.report audit row identifies it';

/** Builds the (unsigned) report of `results` evaluated over `snapshot`. */
export function buildReport(
  snapshot: InstallationSnapshot,
  results: readonly ControlResult[],
): ComplianceReport {
  const count = (status: ControlResult['status']): number =>
    results.filter((r) => r.status === status).length;
  return {
    format: REPORT_FORMAT,
    generatedAt: new Date(snapshot.now).toISOString(),
    installation: {
      trustDomain: snapshot.server.trustDomain,
      publicUrl: snapshot.server.publicUrl,
      serverVersion: snapshot.server.version,
    },
    summary: {
      total: results.length,
      pass: count('pass'),
      fail: count('fail'),
      notApplicable: count('not-applicable'),
      compliant: count('fail') === 0,
    },
    inputs: {
      manifests:
        snapshot.manifests === undefined
          ? null
          : { source: snapshot.manifests.source, files: snapshot.manifests.files },
      dependencies:
        snapshot.dependencies === undefined
          ? null
          : {
              tool: snapshot.dependencies.tool,
              auditedAt: new Date(snapshot.dependencies.auditedAt).toISOString(),
              packageVersion: snapshot.dependencies.packageVersion,
              lockfileSha256: snapshot.dependencies.lockfileSha256,
            },
    },
    controls: results,
  };
}

/**
 * The bytes that are signed and digested: the report without `signature`, in the JSON
 * Canonicalization Scheme (RFC 8785), UTF-8.
 */
export function canonicalReport(report: ComplianceReport): Buffer {
  const { signature: _signature, ...unsigned } = report;
  const text = canonicalize(unsigned);
  if (text === undefined) throw new TypeError('the report cannot be serialised');
  return Buffer.from(text, 'utf8');
}

/** Hex SHA-256 of {@link canonicalReport}: what the audit row of the run records. */
export function reportDigest(report: ComplianceReport): string {
  return createHash('sha256').update(canonicalReport(report)).digest('hex');
}
