// Rendering the kustomizations with `kubectl kustomize`, offline, in a scratch copy of deploy/.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, isKubeObject, parseYamlStream, type KubeObject } from './deploy-files.js';

const run = promisify(execFile);

/** Whether `kubectl` (with its built-in kustomize) is on this machine. */
export function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Renders each kustomization directory (relative to deploy/) as `kubectl apply -k` would.
 * Works on a scratch copy of deploy/ in which the files an operator creates for
 * deploy/secrets/ exist with throwaway values, so the secret generator can run.
 */
export async function renderKustomizations(
  dirs: readonly string[],
): Promise<Map<string, KubeObject[]>> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'hallmark-deploy-'));
  try {
    const deploy = path.join(scratch, 'deploy');
    await cp(path.join(REPO_ROOT, 'deploy'), deploy, { recursive: true });
    await writeFile(
      path.join(deploy, 'secrets', 'database-url'),
      'postgresql://hallmark@postgres.invalid:5432/hallmark',
    );
    await writeFile(path.join(deploy, 'secrets', 'master.key'), randomBytes(32).toString('base64'));
    const rendered = new Map<string, KubeObject[]>();
    for (const dir of dirs) {
      const { stdout } = await run('kubectl', ['kustomize', path.join(deploy, dir)], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const objects = parseYamlStream(stdout, `kubectl kustomize deploy/${dir}`).map(
        (doc) => doc.value,
      );
      rendered.set(dir, objects.filter(isKubeObject));
    }
    return rendered;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
