// The files under deploy/: which ones exist (as git would commit them) and their YAML documents.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Parsing is the code `hallmark compliance` runs on an operator's manifests.
export { describeObject, isKubeObject, parseYamlStream } from '../../src/manifest/index.js';
export type { KubeObject, YamlDocument, YamlValue } from '../../src/manifest/index.js';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Paths (relative to the repository root, `/`-separated) of every file under `dir` that is
 * tracked or would be committed: git-ignored files (the operator's secret values in
 * deploy/secrets/) are not part of the repository and are left out.
 */
export function listRepoFiles(dir: string): string[] {
  const out = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', dir],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  const files = out.split('\n').filter((line) => line !== '');
  // A file deleted from the work tree but still in the index is not there to check.
  return [...new Set(files)]
    .filter((file) => {
      try {
        readFileSync(path.join(REPO_ROOT, file));
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/** Reads a repository file as text. */
export function readRepoFile(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8');
}
