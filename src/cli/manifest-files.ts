// Reading the operator's manifests directory for `hallmark compliance --manifests DIR`.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile } from '../compliance/index.js';

/** Most bytes sent (the server's body limit is 4 MiB, JSON escaping included). */
const MAX_TOTAL_BYTES = 3 * 1024 * 1024;

/**
 * Every `.yaml` and `.yml` file under `dir` (hidden entries skipped), sorted, with paths
 * relative to `dir` and `/`-separated.
 * @throws Error when the files exceed what one request may carry.
 */
export async function readManifestFiles(dir: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  let total = 0;
  const walk = async (at: string): Promise<void> => {
    const entries = await readdir(at, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) {
        const content = await readFile(full, 'utf8');
        total += Buffer.byteLength(content);
        if (total > MAX_TOTAL_BYTES) throw new Error(`the manifests under ${dir} exceed 3 MiB`);
        files.push({ path: path.relative(dir, full).split(path.sep).join('/'), content });
      }
    }
  };
  await walk(dir);
  return files;
}
