// One compliance run: gather, evaluate, build, sign; the audit row records the digest.
import type { ComplianceReport } from './compliance-report.js';
import { buildReport, reportDigest } from './compliance-report.js';
import { evaluateControls } from './control-registry.js';
import {
  gatherSnapshot,
  type GatherSources,
  type SuppliedInputs,
} from './installation-gatherer.js';
import { signReport, type ReportSigner } from './report-signature.js';

/** A finished report and the digest its audit row carries. */
export interface ProducedReport {
  readonly report: ComplianceReport;
  /** Hex SHA-256 of the canonical report (without its signature). */
  readonly digest: string;
}

/** Evaluates every control over the live installation and signs the report when it can. */
export async function produceReport(
  sources: GatherSources,
  supplied: SuppliedInputs,
  signer: ReportSigner | undefined,
): Promise<ProducedReport> {
  const snapshot = await gatherSnapshot(sources, supplied);
  const unsigned = buildReport(snapshot, evaluateControls(snapshot));
  const report = signer === undefined ? unsigned : await signReport(unsigned, signer);
  return { report, digest: reportDigest(unsigned) };
}
