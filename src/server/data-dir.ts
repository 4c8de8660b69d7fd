// The data directory: embedded PostgreSQL, generated master key, admin.key, bundle.pem.
import { chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';

/**
 * Creates the data directory. Owner-only, except that when running as root the embedded
 * cluster runs as the `postgres` user, which must be able to traverse (not list) it; the
 * key files inside are 0600 either way.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (os.userInfo().uid === 0) await chmod(dir, 0o711);
}
