// The server calls behind the JWT-SVID profile — POST /v1/svid/jwt over mTLS with the current
// SVID, GET /v1/bundle for the JWT authorities — behind an interface so unit tests sign in-process;
// and GET /v1/bundle/federated (mTLS) for the federated bundles.
import { HallmarkClient } from '../src/client/index.js';
import { sidecarError } from './client-server-api.js';
import type { ClientCertificate } from './server-api.js';
import type { ServerTrust } from './server-trust.js';

/** The public members of one `jwt-svid` key of the SPIFFE bundle. */
export interface JwtAuthorityJwk {
  readonly kty: string;
  readonly use: 'jwt-svid';
  readonly kid: string;
  readonly alg?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

/** The JWT authorities of the trust domain, as `GET /v1/bundle` published them. */
export interface JwtAuthorities {
  readonly keys: readonly JwtAuthorityJwk[];
  /** The bundle's `spiffe_refresh_hint`, in milliseconds. */
  readonly refreshHintMs: number;
}

/** `POST /v1/svid/jwt`'s answer. */
export interface IssuedJwtSvid {
  readonly spiffeId: string;
  readonly token: string;
  /** `expires_at`, ms since the epoch. */
  readonly expiresAt: number;
}

/** What the JWT-SVID profile needs from the server. */
export interface JwtServerApi {
  /** A JWT-SVID for `audience`, authenticated by presenting `client` (the X509-SVID). */
  issueJwtSvid(client: ClientCertificate, audience: readonly string[]): Promise<IssuedJwtSvid>;
  /** The trust domain's `jwt-svid` keys. */
  jwtAuthorities(): Promise<JwtAuthorities>;
}

/** Options of {@link ClientJwtServerApi}. */
export interface ClientJwtServerApiOptions {
  readonly serverUrl: string;
  readonly trust: ServerTrust;
  /** Bound on each call (ms); default 10 s. */
  readonly timeoutMs?: number;
}

const JWK_MEMBERS = ['alg', 'crv', 'x', 'y', 'n', 'e'] as const;

/**
 * Only `use: jwt-svid` keys with a `kid` (JWT-SVID §6.1 requires both), and of those only
 * public members: an allow-list, so nothing else the bundle carries is ever passed on.
 */
function jwtAuthorityKeys(keys: readonly Readonly<Record<string, unknown>>[]): JwtAuthorityJwk[] {
  const found: JwtAuthorityJwk[] = [];
  for (const key of keys) {
    if (key.use !== 'jwt-svid' || typeof key.kty !== 'string') continue;
    if (typeof key.kid !== 'string' || key.kid === '') continue;
    const jwk: Record<string, string> = { kty: key.kty, use: 'jwt-svid', kid: key.kid };
    for (const member of JWK_MEMBERS) {
      const value = key[member];
      if (typeof value === 'string') jwk[member] = value;
    }
    found.push(jwk as unknown as JwtAuthorityJwk);
  }
  return found;
}

/** The JWT-SVID transport over the shared client library; a client per call, like the SVID's. */
export class ClientJwtServerApi implements JwtServerApi {
  constructor(private readonly options: ClientJwtServerApiOptions) {}

  async issueJwtSvid(
    client: ClientCertificate,
    audience: readonly string[],
  ): Promise<IssuedJwtSvid> {
    const issued = await this.call('POST /v1/svid/jwt', client, (c) => c.issueJwtSvid(audience));
    return {
      spiffeId: issued.spiffeId,
      token: issued.token,
      expiresAt: issued.expiresAt.getTime(),
    };
  }

  /** `GET /v1/bundle/federated` over mTLS: the workload's federated bundles, by trust domain. */
  async federatedBundles(
    client: ClientCertificate,
  ): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>> {
    return this.call('GET /v1/bundle/federated', client, (c) => c.federatedBundles());
  }

  async jwtAuthorities(): Promise<JwtAuthorities> {
    const bundle = await this.call('GET /v1/bundle', undefined, (c) => c.bundle());
    return { keys: jwtAuthorityKeys(bundle.keys), refreshHintMs: bundle.refreshHint * 1000 };
  }

  private async call<T>(
    route: string,
    certificate: ClientCertificate | undefined,
    run: (client: HallmarkClient) => Promise<T>,
  ): Promise<T> {
    const client = new HallmarkClient({
      url: this.options.serverUrl,
      ca: await this.options.trust.caPem(),
      ...(certificate ? { cert: certificate.chainPem, key: certificate.keyPem } : {}),
      timeoutMs: this.options.timeoutMs ?? 10_000,
    });
    try {
      return await run(client);
    } catch (err) {
      throw sidecarError(route, err);
    } finally {
      await client.close();
    }
  }
}
