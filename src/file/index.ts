// Files on disk, replaced atomically and durably: temp file in the same directory, fsync, rename,
// directory fsync. (One module, so the folder's public surface is the module itself.)
import { randomBytes } from 'node:crypto';
import { open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';

/** One file to write: its final path, its content and its exact mode. */
export interface FileContent {
  readonly path: string;
  readonly content: string | Buffer;
  /** Applied with fchmod, so the process umask cannot loosen or tighten it. */
  readonly mode: number;
}

function tempPathFor(file: string): string {
  // A dot prefix keeps the temp file out of simple globs; the random part makes concurrent
  // writers (two sidecars sharing a volume by mistake) unable to clobber each other's temp.
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
}

/**
 * Flushes a directory's entries, so a rename or unlink inside it survives a crash. Some
 * filesystems refuse fsync on a directory (EINVAL, EISDIR): nothing more can be done there.
 */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle.close();
  }
}

async function writeTemp(file: FileContent): Promise<string> {
  const temp = tempPathFor(file.path);
  // 'wx': never follow or reuse an existing path; mode 0600 until fchmod sets the final one.
  const handle = await open(temp, 'wx', 0o600);
  let written = false;
  try {
    await handle.writeFile(file.content);
    await handle.chmod(file.mode);
    await handle.sync();
    written = true;
  } finally {
    await handle.close();
    if (!written) await rm(temp, { force: true });
  }
  return temp;
}

/**
 * Replaces every file in `files` atomically: a reader sees either the old or the new
 * content of each file, never a partial or empty one. All temp files are written and
 * fsynced before the first rename, so related files (a certificate and its key) change
 * within microseconds of each other; directories are fsynced after the renames.
 * On failure no final file has been touched unless its rename already happened.
 */
export async function writeFilesAtomic(files: readonly FileContent[]): Promise<void> {
  const temps: string[] = [];
  try {
    for (const file of files) temps.push(await writeTemp(file));
    for (const [index, file] of files.entries()) {
      await rename(temps[index] as string, file.path);
      temps[index] = '';
    }
  } finally {
    await Promise.all(temps.filter((t) => t !== '').map((t) => rm(t, { force: true })));
  }
  for (const dir of new Set(files.map((f) => path.dirname(f.path)))) await syncDirectory(dir);
}

/** {@link writeFilesAtomic} for a single file. */
export function writeFileAtomic(file: FileContent): Promise<void> {
  return writeFilesAtomic([file]);
}

/** Removes `file` durably; a missing file is not an error. */
export async function removeFileDurably(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await syncDirectory(path.dirname(file));
}
