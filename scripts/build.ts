// `npm run build`: the compiled tree the image runs — tsc's output for tsconfig.build.json plus
// the files the code reads beside itself at run time (the Workload API's .proto), which tsc
// does not copy. The sidecar bench and the compiled-entry test build with it into a directory
// of their own. deploy/Dockerfile repeats the two steps (scripts/ is outside the image's build
// context); test/deploy/dockerfile.test.ts holds it to the same asset list.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The compiled entry point, relative to the outDir (the image's ENTRYPOINT runs it). */
export const COMPILED_ENTRY = 'src/cli/bin.js';

/** Extensions of the non-TypeScript files the code loads from beside its own module. */
const RUNTIME_ASSETS: readonly string[] = ['.proto'];

/** Options of {@link buildProduction}. */
export interface BuildOptions {
  /** Where the tree is written; emptied first. Default `<repo>/dist`. */
  readonly outDir?: string;
  /**
   * Default true. False skips type checking, declarations and source maps: the JavaScript is
   * the same (the sources compile file by file, `isolatedModules`), and it takes a few seconds
   * less — for the bench and tests, which `npm run typecheck` already covers.
   */
  readonly check?: boolean;
}

/** True when `dir` is `parent` or below it. */
function isWithin(dir: string, parent: string): boolean {
  const relative = path.relative(parent, dir);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`));
}

/** True when neither directory holds the other. */
function isOutside(dir: string, other: string): boolean {
  return !isWithin(dir, other) && !isWithin(other, dir);
}

/**
 * The run-time assets under the folders tsconfig.build.json compiles, as `/`-separated paths
 * relative to the repository root; each goes to the same path under the outDir.
 */
export async function runtimeAssets(): Promise<string[]> {
  const config = JSON.parse(
    await readFile(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8'),
  ) as { include: string[] };
  const assets: string[] = [];
  for (const dir of config.include) {
    const entries = await readdir(path.join(REPO_ROOT, dir), {
      recursive: true,
      withFileTypes: true,
    });
    for (const entry of entries) {
      if (!entry.isFile() || !RUNTIME_ASSETS.includes(path.extname(entry.name))) continue;
      const file = path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name));
      assets.push(file.split(path.sep).join('/'));
    }
  }
  return assets.sort();
}

/**
 * Compiles the production sources into `outDir` and copies their run-time assets beside them.
 * Returns the absolute outDir.
 * @throws Error with tsc's output when compilation fails, or for an outDir inside the repository
 *   other than dist/ or holding it (emptying it would delete sources).
 */
export async function buildProduction(options: BuildOptions = {}): Promise<string> {
  const outDir = path.resolve(options.outDir ?? path.join(REPO_ROOT, 'dist'));
  if (!isOutside(outDir, REPO_ROOT) && !isWithin(outDir, path.join(REPO_ROOT, 'dist'))) {
    throw new Error(
      `refusing to empty ${outDir}: only dist/ or a directory outside the repository`,
    );
  }
  await rm(outDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const check = options.check ?? true;
  const fast = check ? [] : ['--noCheck', '--declaration', 'false', '--sourceMap', 'false'];
  try {
    await promisify(execFile)(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, ...fast],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed:\n${stdout ?? ''}${stderr ?? ''}`.trimEnd(), { cause: err });
  }
  for (const asset of await runtimeAssets()) {
    await mkdir(path.dirname(path.join(outDir, asset)), { recursive: true });
    await copyFile(path.join(REPO_ROOT, asset), path.join(outDir, asset));
  }
  return outDir;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--out-dir');
  const outDir = at === -1 ? undefined : process.argv[at + 1];
  try {
    const built = await buildProduction({ outDir });
    console.log(`built ${built}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
