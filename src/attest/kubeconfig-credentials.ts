// The kubeconfig's credentials as request headers, worked out at most once a second instead of
// per call: client-node re-reads every CA, certificate and key file and builds an https.Agent
// for each request, though the connection pool holds the TLS settings already.
import type { KubeConfig, RequestContext, SecurityAuthentication } from '@kubernetes/client-node';
import type { Clock } from '../clock/index.js';

/**
 * How long one set of headers is used. client-node itself re-reads a token file once a
 * minute and re-runs an exec plugin only when its credential expired, so this adds at most
 * a second to how long a credential it replaced is still sent.
 */
export const CREDENTIALS_TTL_MS = 1_000;

/**
 * client-node's kubeconfig authentication (bearer tokens, token files, exec and auth-provider
 * plugins, impersonation, basic auth) applied to each request from headers computed once a
 * second; TLS (CA, client certificate) is the connection pool's, built from the same kubeconfig.
 */
export class KubeconfigCredentials implements SecurityAuthentication {
  #headers: Promise<Record<string, string>> | undefined;
  #madeAt = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly clock: Clock,
  ) {}

  getName(): string {
    return 'kubeconfig credentials';
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    for (const [name, value] of Object.entries(await this.headers()))
      context.setHeaderParam(name, value);
  }

  /** The headers every request carries now. */
  headers(): Promise<Record<string, string>> {
    const now = this.clock.now();
    if (this.#headers === undefined || now - this.#madeAt >= CREDENTIALS_TTL_MS) {
      const made = this.#make();
      this.#headers = made;
      this.#madeAt = now;
      // A failure (an exec plugin that exited non-zero) is not kept: the next call tries again.
      made.catch(() => {
        if (this.#headers === made) this.#headers = undefined;
      });
    }
    return this.#headers;
  }

  async #make(): Promise<Record<string, string>> {
    const options: { headers?: Record<string, string | number | string[]> } = { headers: {} };
    await this.kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {}))
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    // As client-node's own applySecurityAuthentication: a token, if any, wins over a password.
    const user = this.kc.getCurrentUser();
    if (user?.username && headers.Authorization === undefined)
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    return headers;
  }
}
