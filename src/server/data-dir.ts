// The data directory: embedded PostgreSQL, generated master key, admin.key, bundle.pem.
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Creates the data directory. Owner-only, except that when running as root the embedded
 * cluster runs as the `postgres` user, which must be able to traverse (not list) it; the
 * key files inside are 0600 either way.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (os.userInfo().uid === 0) await chmod(dir, 0o711);
}

/** Writes a file atomically (temp file + rename) so readers never see a partial file. */
export async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temp, content, { mode });
  await rename(temp, file);
}
