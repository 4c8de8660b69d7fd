// HallmarkServerApi over the shared client library (src/client): a client per call, so every
// call trusts the current CA bundle and presents the current SVID; client errors become
// sidecar codes, server refusals keep the server's code and status.
import { HallmarkClient, isHallmarkClientError } from '../src/client/index.js';
import { HallmarkError, isErrorCode } from '../src/errors/index.js';
import { encodePem } from '../src/x509/index.js';
import { ServerRefusal } from './server-api.js';
import type {
  ClientCertificate,
  HallmarkServerApi,
  IssuedAccessToken,
  IssuedSvid,
  X509TrustBundle,
} from './server-api.js';
import type { ServerTrust } from './server-trust.js';

/** Options of {@link ClientServerApi}. */
export interface ClientServerApiOptions {
  /** `https://host:port[/prefix]`. */
  readonly serverUrl: string;
  readonly trust: ServerTrust;
  /** Bound on each call, connect to last byte (ms); default 10 s. */
  readonly timeoutMs?: number;
}

/**
 * Maps whatever the client library threw to the sidecar's vocabulary (the SVID and JWT-SVID
 * transports alike): a server's answer keeps its code and status, no answer is unreachable.
 */
export function sidecarError(route: string, err: unknown): HallmarkError {
  if (err instanceof HallmarkError) return err;
  if (!isHallmarkClientError(err)) {
    return new HallmarkError('ERR_INTERNAL', {
      detail: `${route}: unexpected failure`,
      cause: err,
    });
  }
  const detail = `${route}: ${err.status > 0 ? `${err.status} ` : ''}${err.code}`;
  if (err.status > 0) {
    // An answer from the server (or a proxy): a decision or an outage, judged by status.
    return new ServerRefusal(
      isErrorCode(err.code) ? err.code : 'ERR_SIDECAR_SERVER_REFUSED',
      err.status,
      detail,
    );
  }
  if (err.code === 'ERR_CLIENT_BAD_RESPONSE') {
    return new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', { detail, cause: err });
  }
  // Timeouts, refused connections and TLS verification failures: no usable answer.
  return new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail, cause: err });
}

/** Rejects as soon as `signal` aborts (stop must not wait for a slow server). */
function abortable<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return call;
  if (signal.aborted)
    return Promise.reject(
      new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'stopped' }),
    );
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'stopped' }));
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The sidecar's transport. Calls are minutes apart, so no connection is kept between them. */
export class ClientServerApi implements HallmarkServerApi {
  constructor(private readonly options: ClientServerApiOptions) {}

  async issueSvid(
    projectedToken: string,
    csrPem: string,
    signal?: AbortSignal,
  ): Promise<IssuedSvid> {
    const issued = await this.call('POST /v1/svid/x509', undefined, signal, (client) =>
      client.issueX509Svid(projectedToken, csrPem),
    );
    return {
      spiffeId: issued.spiffeId,
      chainPem: issued.svid,
      expiresAt: issued.expiresAt.getTime(),
      bundlePem: issued.bundle,
      federatedBundles: issued.federatedBundles,
    };
  }

  async login(client: ClientCertificate, signal?: AbortSignal): Promise<IssuedAccessToken> {
    const issued = await this.call('POST /v1/authn/login', client, signal, (c) => c.login());
    return { token: issued.token, expiresAt: issued.expiresAt.getTime() };
  }

  async trustBundle(signal?: AbortSignal): Promise<X509TrustBundle> {
    const bundle = await this.call('GET /v1/bundle', undefined, signal, (c) => c.bundle());
    const anchorsPem: string[] = [];
    for (const key of bundle.keys) {
      // @see SPIFFE Trust Domain and Bundle §4.2.1: an x509-svid key holds exactly one x5c.
      const x5c = key['x5c'];
      if (key['use'] !== 'x509-svid' || !Array.isArray(x5c) || typeof x5c[0] !== 'string') continue;
      anchorsPem.push(encodePem(Buffer.from(x5c[0], 'base64'), 'CERTIFICATE'));
    }
    return { anchorsPem, sequence: bundle.sequence, refreshHintMs: bundle.refreshHint * 1000 };
  }

  private async call<T>(
    route: string,
    certificate: ClientCertificate | undefined,
    signal: AbortSignal | undefined,
    run: (client: HallmarkClient) => Promise<T>,
  ): Promise<T> {
    const client = new HallmarkClient({
      url: this.options.serverUrl,
      ca: await this.options.trust.caPem(),
      ...(certificate ? { cert: certificate.chainPem, key: certificate.keyPem } : {}),
      timeoutMs: this.options.timeoutMs ?? 10_000,
    });
    const pending = run(client);
    // The pool is closed once the call settles, whether or not the caller still waits for it.
    void pending.then(
      () => client.close(),
      () => client.close(),
    );
    try {
      return await abortable(pending, signal);
    } catch (err) {
      throw sidecarError(route, err);
    }
  }
}
