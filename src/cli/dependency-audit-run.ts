// Running `npm audit --omit=dev --json` against the lockfile of this Hallmark installation.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../clock/index.js';
import { parseNpmAudit, type DependencyAudit } from '../compliance/index.js';
import { HALLMARK_VERSION } from '../config/index.js';

/** How long npm may take (it fetches advisories for the whole tree in one request). */
const AUDIT_TIMEOUT_MS = 120_000;

/** The directory holding Hallmark's package.json (sources or dist/, found by walking up). */
export async function hallmarkPackageRoot(): Promise<string | undefined> {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
      };
      if (pkg.name === 'hallmark') return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function runNpmAudit(cwd: string): Promise<{ stdout: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['audit', '--omit=dev', '--json'],
      {
        cwd,
        timeout: AUDIT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, NO_UPDATE_NOTIFIER: '1' },
      },
      // npm audit exits 1 when it finds vulnerabilities: the JSON on stdout is the answer.
      (err, stdout) =>
        resolve({
          stdout,
          ...(err && stdout.trim() === ''
            ? { error: (err as NodeJS.ErrnoException).code?.toString() ?? err.message }
            : {}),
        }),
    );
  });
}

/**
 * Audits the production dependencies of this installation's lockfile. Never throws: a
 * missing lockfile, a missing npm or an unreachable registry is a `ran: false` audit with
 * the reason, which the control reports as not applicable.
 */
export async function auditDependencies(clock: Clock, root?: string): Promise<DependencyAudit> {
  const base = {
    tool: 'npm audit --omit=dev',
    auditedAt: clock.now(),
    packageVersion: HALLMARK_VERSION,
  };
  const dir = root ?? (await hallmarkPackageRoot());
  let lock: string | undefined;
  try {
    if (dir !== undefined) lock = await readFile(path.join(dir, 'package-lock.json'), 'utf8');
  } catch {
    lock = undefined;
  }
  if (dir === undefined || lock === undefined) {
    return {
      ran: false,
      ...base,
      lockfileSha256: '0'.repeat(64),
      reason: 'no package-lock.json beside this Hallmark installation to audit',
    };
  }
  const lockfileSha256 = createHash('sha256').update(lock, 'utf8').digest('hex');
  const { stdout, error } = await runNpmAudit(dir);
  if (error !== undefined) {
    return { ran: false, ...base, lockfileSha256, reason: `npm audit could not run: ${error}` };
  }
  return parseNpmAudit(stdout, { ...base, lockfileSha256 });
}
