// The text docs/compliance.md must carry for each control: its heading, references and remediation.
import type { Control } from '../../src/compliance/index.js';
import { md } from '../../src/compliance/markdown-report.js';

const TITLES = {
  pciDss: 'PCI DSS v4.0',
  soc2: 'SOC 2 TSC',
  nist80053: 'NIST SP 800-53 Rev. 5',
} as const;

/** The Markdown section of one control, as the document writes it. */
export function controlSection(control: Control): string {
  const refs = (Object.keys(TITLES) as (keyof typeof TITLES)[])
    .map((key) => `${TITLES[key]}: ${control.references[key].join(', ')}`)
    .join(' · ');
  return [
    `### ${control.id}`,
    '',
    `**${md(control.title)}.** ${md(control.checks)}`,
    '',
    `- Supports: ${refs}`,
    `- Remediation: ${md(control.remediation)}`,
  ].join('\n');
}
