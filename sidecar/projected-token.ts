// The projected ServiceAccount token: read from disk before every attestation (the kubelet rotates it).
import { readFile } from 'node:fs/promises';
import { HallmarkError } from '../src/errors/index.js';

/** Where the pod's projected token comes from. */
export interface ProjectedTokenSource {
  /** The current token. @throws HallmarkError `ERR_SIDECAR_TOKEN_UNREADABLE` */
  read(): Promise<string>;
}

/** Largest token accepted; projected tokens are ~1 KB, this only guards against a wrong path. */
const MAX_TOKEN_BYTES = 64 * 1024;

/**
 * Reads the token file on every call, never caching: the kubelet replaces it (atomically,
 * through a symlink swap) well before expiry, and an old copy would eventually be refused.
 */
export class ProjectedTokenFile implements ProjectedTokenSource {
  constructor(readonly path: string) {}

  async read(): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new HallmarkError('ERR_SIDECAR_TOKEN_UNREADABLE', {
        detail: `${this.path}: ${code}`,
        cause: err,
      });
    }
    const token = text.trim();
    if (token === '' || token.length > MAX_TOKEN_BYTES || /\s/.test(token)) {
      throw new HallmarkError('ERR_SIDECAR_TOKEN_UNREADABLE', {
        detail: `${this.path}: empty or not a single token`,
      });
    }
    return token;
  }
}
