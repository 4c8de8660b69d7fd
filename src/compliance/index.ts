// Public surface of compliance: controls over an installation snapshot, reports, signatures.
export { CONTROL_AREAS } from './control.js';
export type {
  Control,
  ControlArea,
  ControlStatus,
  ControlVerdict,
  Evidence,
  EvidenceValue,
  FrameworkReferences,
} from './control.js';
export type * from './installation-snapshot.js';
export { CONTROLS, evaluateControls } from './control-registry.js';
export type { ControlResult } from './control-registry.js';
export { REPORT_FORMAT, buildReport, canonicalReport, reportDigest } from './compliance-report.js';
export type { ComplianceReport, ReportSignature } from './compliance-report.js';
export {
  REPORT_ALGORITHMS,
  ReportSignatureError,
  signReport,
  verifyReport,
} from './report-signature.js';
export type { ReportSigner } from './report-signature.js';
export { renderMarkdown } from './markdown-report.js';
export { escapeHtml, renderHtml } from './html-report.js';
export { SEVERITIES, parseNpmAudit } from './dependency-audit.js';
export type { DependencyAudit, Severity, VulnerablePackage } from './dependency-audit.js';
export { cipherWeakness } from './transport-controls.js';
export { gatherSnapshot, passwordFacts, policyFacts } from './installation-gatherer.js';
export { masterKeyFacts } from './master-key-facts.js';
export type { GatherSources, KeyringSchedule, SuppliedInputs } from './installation-gatherer.js';
export { suppliedManifests } from './supplied-manifests.js';
export type { ManifestFile } from './supplied-manifests.js';
export { produceReport } from './report-production.js';
export type { ProducedReport } from './report-production.js';
export { certificateFacts } from './certificate-facts.js';
