// The app-facing client: token and CA bundle from the sidecar's directory, secrets by path.
import path from 'node:path';
import { HallmarkClientError } from './client-error.js';
import { HallmarkClient } from './hallmark-client.js';
import { WatchedFile } from './watched-file.js';

/** The sidecar's shared in-memory volume (docs/sidecar.md). */
export const DEFAULT_OUTPUT_DIR = '/run/hallmark';

/** Options of {@link AppSecretsClient}. */
export interface AppClientOptions {
  /** `HALLMARK_SERVER_URL`, e.g. `https://hallmark.hallmark.svc:8443`. */
  serverUrl: string;
  /** The sidecar's output directory (default `/run/hallmark`). */
  dir?: string;
  /** Access-token file (default `<dir>/access-token`). */
  tokenFile?: string;
  /** CA bundle that signs the server (default `<dir>/bundle.pem`). */
  bundleFile?: string;
  /** Time limit of each call in milliseconds (default 10 s). */
  timeoutMs?: number;
}

/**
 * Client options from `HALLMARK_*` variables, read from the mapping given (the caller passes
 * its environment; this library does not read `process.env` itself):
 * `HALLMARK_SERVER_URL` (required), `HALLMARK_OUTPUT_DIR`, `HALLMARK_ACCESS_TOKEN_FILE`,
 * `HALLMARK_SERVER_BUNDLE`.
 *
 * @throws Error naming the variable when `HALLMARK_SERVER_URL` is missing or not https.
 */
export function appClientOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): AppClientOptions {
  const serverUrl = env['HALLMARK_SERVER_URL'];
  if (serverUrl === undefined || serverUrl === '') {
    throw new Error('HALLMARK_SERVER_URL: required (e.g. https://hallmark.hallmark.svc:8443)');
  }
  if (!/^https:\/\/[^\s/]+/.test(serverUrl)) {
    throw new Error(`HALLMARK_SERVER_URL: expected an https:// URL, got "${serverUrl}"`);
  }
  const pick = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    serverUrl,
    dir: pick('HALLMARK_OUTPUT_DIR'),
    tokenFile: pick('HALLMARK_ACCESS_TOKEN_FILE'),
    bundleFile: pick('HALLMARK_SERVER_BUNDLE'),
  };
}

/**
 * What an application needs at start-up: `getSecret(path)` and `getSecrets(paths)`. The
 * token file is checked on every call (one `stat`) and re-read when the sidecar replaced it;
 * the CA bundle likewise, and a changed bundle (CA rotation) gets a fresh connection pool.
 */
export class AppSecretsClient {
  readonly #token: WatchedFile;
  readonly #bundle: WatchedFile;
  readonly #options: AppClientOptions;
  #client: HallmarkClient | undefined;

  constructor(options: AppClientOptions) {
    const dir = options.dir ?? DEFAULT_OUTPUT_DIR;
    this.#options = options;
    this.#token = new WatchedFile(options.tokenFile ?? path.join(dir, 'access-token'));
    this.#bundle = new WatchedFile(options.bundleFile ?? path.join(dir, 'bundle.pem'));
  }

  /** The newest value of `path`. */
  async getSecret(secretPath: string): Promise<string> {
    const client = await this.#current();
    return (await client.getSecret(secretPath)).value;
  }

  /** Every path's newest value, in one request; all or nothing. */
  async getSecrets(paths: readonly string[]): Promise<Map<string, string>> {
    const client = await this.#current();
    return client.getSecrets(paths);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  async #current(): Promise<HallmarkClient> {
    let bundle;
    try {
      bundle = await this.#bundle.read();
    } catch (cause) {
      throw new HallmarkClientError(
        'ERR_CLIENT_BUNDLE_UNAVAILABLE',
        `cannot read the CA bundle ${this.#bundle.path}`,
        { cause },
      );
    }
    if (bundle.text === '') {
      throw new HallmarkClientError(
        'ERR_CLIENT_BUNDLE_UNAVAILABLE',
        `${this.#bundle.path} is empty`,
      );
    }
    if (bundle.changed || this.#client === undefined) {
      const previous = this.#client;
      this.#client = new HallmarkClient({
        url: this.#options.serverUrl,
        ca: bundle.text,
        timeoutMs: this.#options.timeoutMs,
        token: () => this.#readToken(),
      });
      // Calls in flight on the old pool finish; it closes when they are done.
      void previous?.close().catch(() => undefined);
    }
    return this.#client;
  }

  async #readToken(): Promise<string> {
    let content;
    try {
      content = await this.#token.read();
    } catch (cause) {
      throw new HallmarkClientError(
        'ERR_CLIENT_TOKEN_UNAVAILABLE',
        `cannot read the access token ${this.#token.path}`,
        { cause },
      );
    }
    if (content.text === '') {
      throw new HallmarkClientError('ERR_CLIENT_TOKEN_UNAVAILABLE', `${this.#token.path} is empty`);
    }
    return content.text;
  }
}
