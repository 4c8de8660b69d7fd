// The report for people: Markdown, one section per control with its references and evidence.
import { UNSIGNED_NOTE, type ComplianceReport } from './compliance-report.js';
import type { EvidenceValue } from './control.js';
import type { ControlResult } from './control-registry.js';

const STATUS_LABEL: Readonly<Record<ControlResult['status'], string>> = {
  pass: 'PASS',
  fail: 'FAIL',
  'not-applicable': 'N/A',
};

/** Markdown-escapes text for a table cell or a line (pipes, backticks, emphasis, angle brackets). */
export function md(text: string): string {
  return text
    .replace(/[\\`*[\]|<>]/g, (c) => `\\${c}`)
    .replace(/(^|[^A-Za-z0-9])_|_(?=[^A-Za-z0-9]|$)/g, (m) => m.replace('_', '\\_'))
    .replace(/^#/, '\\#')
    .replace(/\r?\n/g, ' ');
}

/** Evidence as indented list items, nested values flattened to JSON where deep. */
export function evidenceLines(evidence: Readonly<Record<string, EvidenceValue>>): string[] {
  return Object.entries(evidence).map(([name, value]) => {
    const text =
      typeof value === 'string' ? value : value === null ? 'none' : JSON.stringify(value);
    return `  - ${md(name)}: ${md(text)}`;
  });
}

/** References of a control as one line. */
export function referenceLine(result: ControlResult): string {
  const { pciDss, soc2, nist80053 } = result.references;
  return `PCI DSS v4.0 ${pciDss.join(', ')} · SOC 2 ${soc2.join(', ')} · NIST SP 800-53r5 ${nist80053.join(', ')}`;
}

/** Renders the whole report as Markdown. */
export function renderMarkdown(report: ComplianceReport): string {
  const { summary, installation } = report;
  const lines = [
    `# Hallmark compliance report`,
    '',
    `- Installation: ${md(installation.trustDomain)} at ${md(installation.publicUrl)} (Hallmark ${md(installation.serverVersion)})`,
    `- Generated: ${report.generatedAt}`,
    `- Result: **${summary.compliant ? 'compliant' : 'NOT compliant'}**: ${summary.pass} pass, ${summary.fail} fail, ${summary.notApplicable} not applicable of ${summary.total} controls`,
    `- Signature: ${report.signature ? `detached JWS by key ${md(report.signature.kid)} (${md(report.signature.alg)}); check with hallmark compliance verify` : md(UNSIGNED_NOTE)}`,
  ];
  if (report.inputs.manifests) {
    lines.push(
      `- Manifests: ${md(report.inputs.manifests.source)} (${report.inputs.manifests.files.length} files)`,
    );
  }
  if (report.inputs.dependencies) {
    const d = report.inputs.dependencies;
    lines.push(
      `- Dependency audit: ${md(d.tool)} at ${d.auditedAt}, Hallmark ${md(d.packageVersion)} lockfile sha256 ${d.lockfileSha256}`,
    );
  }
  lines.push('', '| control | status | title |', '|---|---|---|');
  for (const r of report.controls)
    lines.push(`| ${r.id} | ${STATUS_LABEL[r.status]} | ${md(r.title)} |`);
  for (const r of report.controls) {
    lines.push(
      '',
      `## ${r.id} ${md(r.title)}: ${STATUS_LABEL[r.status]}`,
      '',
      `${STATUS_LABEL[r.status]}: ${md(r.reason)}`,
      '',
      `- Checks: ${md(r.checks)}`,
      `- Supports: ${md(referenceLine(r))}`,
      '- Evidence:',
      ...evidenceLines(r.evidence),
    );
    if (r.status === 'fail') lines.push(`- Remediation: ${md(r.remediation)}`);
  }
  return `${lines.join('\n')}\n`;
}
