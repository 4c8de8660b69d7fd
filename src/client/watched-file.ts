// A small file re-read only when it changes: the sidecar replaces its files by atomic rename.
import { readFile, stat } from 'node:fs/promises';

/** A file's identity and version as `stat` reports it. */
interface Stamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** What {@link WatchedFile.read} returns. */
export interface WatchedContent {
  readonly text: string;
  /** True on the first read and whenever the file changed since the previous one. */
  readonly changed: boolean;
}

/**
 * Reads a file and caches its text; each later read costs one `stat`, and re-reads only when
 * the inode, size or mtime differ (an atomic rename always changes the inode). The stamp is
 * taken before reading, so a replacement racing the read is picked up on the next call.
 */
export class WatchedFile {
  #stamp: Stamp | undefined;
  #text = '';

  constructor(readonly path: string) {}

  /** Current text, trimmed of surrounding whitespace. Rejects with the fs error if unreadable. */
  async read(): Promise<WatchedContent> {
    const info = await stat(this.path);
    const stamp: Stamp = { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
    const previous = this.#stamp;
    if (
      previous !== undefined &&
      previous.ino === stamp.ino &&
      previous.size === stamp.size &&
      previous.mtimeMs === stamp.mtimeMs
    ) {
      return { text: this.#text, changed: false };
    }
    this.#text = (await readFile(this.path, 'utf8')).trim();
    this.#stamp = stamp;
    return { text: this.#text, changed: true };
  }
}
