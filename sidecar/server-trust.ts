// Trust in the Hallmark server: the configured CA bundle plus the bundle.pem the server last
// sent over a connection that was itself verified — never trust on first use.
import { readFile } from 'node:fs/promises';
import { HallmarkError } from '../src/errors/index.js';
import type { CredentialStore } from './credential-files.js';

/** Supplies the PEM CA certificates that may sign the server's TLS certificate. */
export interface ServerTrust {
  /** @throws HallmarkError `ERR_SIDECAR_TRUST_UNAVAILABLE` when there is nothing to trust. */
  caPem(): Promise<string>;
}

/**
 * Re-reads both sources on every call: operators may replace the configured file, and
 * the trust domain's bundle announces a rotated CA before the server switches to it.
 */
export class ServerTrustFiles implements ServerTrust {
  constructor(
    private readonly configuredPath: string | undefined,
    private readonly store: CredentialStore,
  ) {}

  async caPem(): Promise<string> {
    const parts: string[] = [];
    if (this.configuredPath !== undefined) {
      try {
        parts.push(await readFile(this.configuredPath, 'utf8'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new HallmarkError('ERR_SIDECAR_TRUST_UNAVAILABLE', {
          detail: `HALLMARK_SERVER_BUNDLE ${this.configuredPath}: ${code}`,
          cause: err,
        });
      }
    }
    const received = await this.store.readBundle();
    if (received !== undefined) parts.push(received);
    const pem = parts.join('\n');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new HallmarkError('ERR_SIDECAR_TRUST_UNAVAILABLE', {
        detail: 'no CA certificate in HALLMARK_SERVER_BUNDLE or <output dir>/bundle.pem',
      });
    }
    return pem;
  }
}
