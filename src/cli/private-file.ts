// Files only their owner may read (keys): written whole, then renamed over the old one.
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes `content` to `file` with mode 0600, atomically (temp file and rename). */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}`,
  );
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  await rename(temp, file);
}
