// The image's /app laid out in a temp directory around a fresh build: package.json, a
// node_modules holding only what `npm ci --omit=dev` installs (links into the repository's),
// and dist/ from scripts/build.ts. The compiled-entry test and the sidecar bench run `hallmark`
// from it as the image does, without touching the repository's dist/.
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { COMPILED_ENTRY, REPO_ROOT, buildProduction } from '../../scripts/build.js';

/** A built layout. */
export interface CompiledApp {
  /** The layout's root (the image's /app). */
  readonly root: string;
  /** The compiled `hallmark` entry: what the image's ENTRYPOINT runs with `node`. */
  readonly entry: string;
  remove(): Promise<void>;
}

/**
 * The packages `npm ci --omit=dev` installs at the top of node_modules, from package-lock.json
 * (their own nested node_modules come with them).
 */
export async function productionPackages(): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([key, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && entry.dev !== true)
    .map(([key]) => key.slice('node_modules/'.length))
    .sort();
}

/**
 * Builds the layout. A production source that imports a devDependency fails to load from it,
 * as it would in the image. The caller removes it.
 */
export async function buildCompiledApp(): Promise<CompiledApp> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'hallmark-app-'));
  const remove = (): Promise<void> => rm(root, { recursive: true, force: true });
  try {
    // package.json makes dist/*.js ES modules ("type": "module"), as in the image.
    await copyFile(path.join(REPO_ROOT, 'package.json'), path.join(root, 'package.json'));
    for (const name of await productionPackages()) {
      const installed = path.join(REPO_ROOT, 'node_modules', name);
      // Optional packages for other platforms are in the lock but not installed here.
      if (
        !(await stat(installed).then(
          () => true,
          () => false,
        ))
      )
        continue;
      const link = path.join(root, 'node_modules', name);
      await mkdir(path.dirname(link), { recursive: true });
      await symlink(installed, link, 'dir');
    }
    await buildProduction({ outDir: path.join(root, 'dist'), check: false });
  } catch (err) {
    await remove();
    throw err;
  }
  return { root, entry: path.join(root, 'dist', COMPILED_ENTRY), remove };
}
