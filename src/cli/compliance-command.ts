// `hallmark compliance`: the server evaluates every control; reports as Markdown, JSON and HTML.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { HallmarkClient, isHallmarkClientError } from '../client/index.js';
import { systemClock } from '../clock/index.js';
import {
  REPORT_FORMAT,
  ReportSignatureError,
  renderHtml,
  renderMarkdown,
  reportDigest,
  verifyReport,
  type ComplianceReport,
} from '../compliance/index.js';
import { ConfigError } from '../config/index.js';
import {
  ADMIN_USAGE,
  ADMIN_VARIABLES,
  readAdminSettings,
  withAdminClient,
} from './admin-client.js';
import { EXIT, UsageError, parseVariableFlags, type CliIo, type Command } from './command.js';
import { auditDependencies } from './dependency-audit-run.js';
import { readManifestFiles } from './manifest-files.js';

/** Where manifests are looked for when --manifests is not given. */
const DEFAULT_MANIFESTS = 'deploy';

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

function asReport(value: unknown, what: string): ComplianceReport {
  const report = value as Partial<ComplianceReport> | null;
  if (
    report?.format !== REPORT_FORMAT ||
    !Array.isArray(report.controls) ||
    report.summary === undefined
  ) {
    throw new UsageError(`${what} is not a ${REPORT_FORMAT} report`);
  }
  return report as ComplianceReport;
}

async function writeReports(dir: string, report: ComplianceReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['compliance-report.json', `${JSON.stringify(report, null, 2)}\n`],
    ['compliance-report.md', renderMarkdown(report)],
    ['compliance-report.html', renderHtml(report)],
  ];
  for (const [name, content] of files) await writeFile(path.join(dir, name), content);
  return files.map(([name]) => path.join(dir, name));
}

async function runReport(
  io: CliIo,
  flags: Record<string, string>,
  values: Record<string, unknown>,
): Promise<number> {
  const explicit = typeof values['manifests'] === 'string' ? values['manifests'] : undefined;
  const manifestsDir = path.resolve(explicit ?? DEFAULT_MANIFESTS);
  if (explicit !== undefined && !(await isDirectory(manifestsDir))) {
    throw new UsageError(`--manifests ${explicit}: not a directory`);
  }
  const manifests = (await isDirectory(manifestsDir))
    ? { source: explicit ?? `${DEFAULT_MANIFESTS}/`, files: await readManifestFiles(manifestsDir) }
    : undefined;
  const dependencies =
    values['no-dependency-audit'] === true ? undefined : await auditDependencies(systemClock);
  return withAdminClient('compliance', io, flags, async (client) => {
    const report = asReport(
      await client.complianceReport({
        ...(manifests ? { manifests } : {}),
        ...(dependencies ? { dependencies } : {}),
      }),
      "the server's answer",
    );
    const out = values['out'];
    if (typeof out === 'string') {
      for (const file of await writeReports(path.resolve(out), report)) io.err(`wrote ${file}`);
    }
    if (values['json'] === true) io.out(JSON.stringify(report, null, 2));
    else if (typeof out !== 'string') io.out(renderMarkdown(report).trimEnd());
    const { pass, fail, notApplicable } = report.summary;
    io.err(
      `${report.summary.compliant ? 'compliant' : 'NOT compliant'}: ${pass} pass, ${fail} fail, ${notApplicable} not applicable; report sha256 ${reportDigest(report)}`,
    );
    return report.summary.compliant ? EXIT.ok : EXIT.failure;
  });
}

async function keySet(
  io: CliIo,
  flags: Record<string, string>,
  jwksFile: string | undefined,
): Promise<JSONWebKeySet> {
  if (jwksFile !== undefined) {
    const parsed = JSON.parse(await readFile(jwksFile, 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(parsed.keys)) throw new UsageError(`${jwksFile} is not a JWKS`);
    return parsed;
  }
  const settings = readAdminSettings(io, flags);
  let ca: string;
  try {
    ca = await readFile(settings.bundleFile, 'utf8');
  } catch {
    throw new ConfigError('HALLMARK_SERVER_BUNDLE', `cannot read ${settings.bundleFile}`);
  }
  const client = new HallmarkClient({ url: settings.serverUrl, ca });
  try {
    return (await client.auditKeys()) as JSONWebKeySet;
  } finally {
    await client.close();
  }
}

async function runVerify(
  io: CliIo,
  flags: Record<string, string>,
  file: string,
  jwksFile: string | undefined,
): Promise<number> {
  let report: ComplianceReport;
  try {
    report = asReport(JSON.parse(await readFile(file, 'utf8')), file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    const keys = await keySet(io, flags, jwksFile);
    const { kid, alg } = await verifyReport(report, keys);
    io.out(
      `signature valid: key ${kid} (${alg}); report of ${report.generatedAt}, sha256 ${reportDigest(report)}`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ReportSignatureError) {
      io.err(`hallmark compliance verify: ${err.code}: ${err.message}`);
      return EXIT.failure;
    }
    if (err instanceof ConfigError) {
      io.err(`hallmark compliance verify: invalid configuration: ${err.message}`);
      return EXIT.usage;
    }
    if (isHallmarkClientError(err)) {
      io.err(`hallmark compliance verify: ${err.code}: ${err.message}`);
      return EXIT.failure;
    }
    throw err;
  }
}

export const complianceCommand: Command = {
  name: 'compliance',
  summary: 'check the installation against PCI DSS, SOC 2 and NIST controls (admin)',
  usage: `hallmark compliance [--json] [--out DIR] [--manifests DIR] [--no-dependency-audit]
hallmark compliance verify REPORT.json [--jwks FILE]

The server evaluates every control (docs/compliance.md) against the live installation. This
command sends it the Kubernetes manifests of --manifests DIR (default ./deploy when present),
which the server cannot see, and the result of npm audit --omit=dev over this installation's
lockfile (skipped with --no-dependency-audit). Prints the report as Markdown, or JSON with
--json; --out DIR writes compliance-report.json, .md and .html there. Exit 0 when no control
fails, 1 when any does, 2 on bad usage.

verify checks a report's detached JWS offline against the audit checkpoint keys: the JWKS of
GET /v1/audit/keys, or a saved copy given with --jwks. Exit 0 valid, 1 not.

${ADMIN_USAGE}`,
  async run(args, io) {
    const { flags, values, positionals } = parseVariableFlags(args, ADMIN_VARIABLES, {
      json: { type: 'boolean' },
      out: { type: 'string' },
      manifests: { type: 'string' },
      'no-dependency-audit': { type: 'boolean' },
      jwks: { type: 'string' },
    });
    if (positionals[0] === 'verify') {
      if (positionals.length !== 2) throw new UsageError('expected "verify REPORT.json"');
      const jwks = typeof values['jwks'] === 'string' ? values['jwks'] : undefined;
      return runVerify(io, flags, positionals[1] as string, jwks);
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values['jwks'] !== undefined) throw new UsageError('--jwks goes with "verify"');
    return runReport(io, flags, values);
  },
};
