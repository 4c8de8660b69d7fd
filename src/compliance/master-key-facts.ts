// Where the master key file is, once symlinks are followed, and how it is protected.
import { realpath, stat } from 'node:fs/promises';
import type { ServerConfig } from '../config/index.js';
import type { MasterKeyFacts } from './installation-snapshot.js';

async function resolved(file: string): Promise<string | undefined> {
  try {
    return await realpath(file);
  } catch {
    return undefined;
  }
}

/**
 * The master key's source and its file's mode. Paths are also given with symlinks resolved, so
 * a link outside the data directory to a key inside it is seen for what it is.
 */
export async function masterKeyFacts(config: ServerConfig): Promise<MasterKeyFacts> {
  const source = config.masterKey;
  if (source.kind === 'inline') return { source: 'inline', dataDir: config.dataDir };
  const [resolvedPath, resolvedDataDir] = await Promise.all([
    resolved(source.path),
    resolved(config.dataDir),
  ]);
  const where = {
    source: source.kind,
    path: source.path,
    dataDir: config.dataDir,
    ...(resolvedPath === undefined ? {} : { resolvedPath }),
    ...(resolvedDataDir === undefined ? {} : { resolvedDataDir }),
  };
  try {
    // stat follows the link: the mode that matters is the key's, not the link's.
    return { ...where, mode: (await stat(source.path)).mode & 0o7777 };
  } catch (err) {
    return { ...where, statError: (err as NodeJS.ErrnoException).code ?? 'error' };
  }
}
