// Running compliance against a real server in tests: admin login, the report, the deploy/ files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile } from '../../src/compliance/index.js';
import type { ComplianceReport, ControlResult } from '../../src/compliance/index.js';
import { readManifestFiles } from '../../src/cli/manifest-files.js';
import type { HallmarkStack } from '../helpers/hallmark-stack.js';
import { REPO_ROOT } from '../deploy/deploy-files.js';

/** An admin access token, with the key from the data dir's admin.key. */
export async function adminToken(stack: HallmarkStack): Promise<string> {
  const key = (await readFile(stack.server.admin.file, 'utf8')).trim();
  const login = await stack.call('POST', '/v1/authn/apikey', {
    body: { id: 'admin', api_key: key },
  });
  if (login.status !== 200)
    throw new Error(`admin login: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body['token'] as string;
}

/** `POST /v1/compliance` as the admin; returns the report. */
export async function complianceReport(
  stack: HallmarkStack,
  body: { manifests?: { source: string; files: ManifestFile[] } } = {},
): Promise<ComplianceReport> {
  const token = await adminToken(stack);
  const response = await stack.call('POST', '/v1/compliance', {
    body,
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200)
    throw new Error(`compliance: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as unknown as ComplianceReport;
}

/** The result of one control. */
export function control(report: ComplianceReport, id: string): ControlResult {
  const found = report.controls.find((c) => c.id === id);
  if (!found) throw new Error(`no control ${id}`);
  return found;
}

/** The manifests of the repository's deploy/ directory, as the CLI reads them. */
export async function deployFiles(): Promise<ManifestFile[]> {
  return readManifestFiles(path.join(REPO_ROOT, 'deploy'));
}
