// The report as one self-contained HTML page: inline CSS, no script, every value escaped.
import { UNSIGNED_NOTE, type ComplianceReport } from './compliance-report.js';
import type { EvidenceValue } from './control.js';
import { referenceLine } from './markdown-report.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function evidenceHtml(evidence: Readonly<Record<string, EvidenceValue>>): string {
  const rows = Object.entries(evidence).map(([name, value]) => {
    const text =
      typeof value === 'string' ? value : value === null ? 'none' : JSON.stringify(value, null, 1);
    return `<tr><th>${escapeHtml(name)}</th><td><code>${escapeHtml(text)}</code></td></tr>`;
  });
  return rows.length > 0
    ? `<table class="evidence">${rows.join('')}</table>`
    : '<p>No evidence.</p>';
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
.pass{color:#05631a}.fail{color:#a00}.not-applicable{color:#555}code{white-space:pre-wrap;word-break:break-all}
section{border-top:2px solid #ddd;margin-top:1.5rem}.evidence th{width:12rem}`;

/** Renders the report as a standalone HTML document. */
export function renderHtml(report: ComplianceReport): string {
  const { summary, installation } = report;
  const overview = report.controls
    .map(
      (r) =>
        `<tr><td><a href="#${escapeHtml(r.id)}">${escapeHtml(r.id)}</a></td><td class="${r.status}">${r.status}</td><td>${escapeHtml(r.title)}</td></tr>`,
    )
    .join('');
  const sections = report.controls
    .map(
      (
        r,
      ) => `<section id="${escapeHtml(r.id)}"><h2>${escapeHtml(r.id)} ${escapeHtml(r.title)}: <span class="${r.status}">${r.status}</span></h2>
<p><strong>${escapeHtml(r.reason)}</strong></p>
<p>Checks: ${escapeHtml(r.checks)}</p>
<p>Supports: ${escapeHtml(referenceLine(r))}</p>
${evidenceHtml(r.evidence)}
${r.status === 'fail' ? `<p>Remediation: ${escapeHtml(r.remediation)}</p>` : ''}</section>`,
    )
    .join('\n');
  const signature = report.signature
    ? `detached JWS by key ${escapeHtml(report.signature.kid)} (${escapeHtml(report.signature.alg)})`
    : escapeHtml(UNSIGNED_NOTE);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Hallmark compliance report: ${escapeHtml(installation.trustDomain)}</title><style>${STYLE}</style></head>
<body><h1>Hallmark compliance report</h1>
<p>${escapeHtml(installation.trustDomain)} at ${escapeHtml(installation.publicUrl)}, Hallmark ${escapeHtml(installation.serverVersion)}, generated ${escapeHtml(report.generatedAt)}; ${signature}.</p>
<p class="${summary.compliant ? 'pass' : 'fail'}"><strong>${summary.compliant ? 'Compliant' : 'Not compliant'}</strong>: ${summary.pass} pass, ${summary.fail} fail, ${summary.notApplicable} not applicable of ${summary.total}.</p>
<table><tr><th>control</th><th>status</th><th>title</th></tr>${overview}</table>
${sections}
</body></html>
`;
}
