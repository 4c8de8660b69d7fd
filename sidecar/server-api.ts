// The two Hallmark server calls the sidecar makes, behind an interface so the transport can be
// swapped (the shared src/client library, or a fake in unit tests).
import { HallmarkError } from '../src/errors/index.js';
import type { ErrorCode } from '../src/errors/index.js';

/** `POST /v1/svid/x509`'s answer, decoded. */
export interface IssuedSvid {
  readonly spiffeId: string;
  /** PEM chain, leaf first. */
  readonly chainPem: string;
  /** `expires_at` in ms since the epoch. */
  readonly expiresAt: number;
  /** PEM CA certificates of the trust domain. */
  readonly bundlePem: string;
  /**
   * SPIFFE bundle documents of the foreign trust domains the workload federates with, by name
   * (empty when it federates with none).
   */
  readonly federatedBundles?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

/** `POST /v1/authn/login`'s answer, decoded. */
export interface IssuedAccessToken {
  readonly token: string;
  /** `expires_at` in ms since the epoch. */
  readonly expiresAt: number;
}

/** `GET /v1/bundle`'s X.509 part, decoded. */
export interface X509TrustBundle {
  /** PEM certificates of the `x509-svid` keys: the trust anchors of the trust domain. */
  readonly anchorsPem: readonly string[];
  readonly sequence: number;
  /** `spiffe_refresh_hint` in ms. */
  readonly refreshHintMs: number;
}

/** The SVID presented as the TLS client certificate for login. */
export interface ClientCertificate {
  readonly chainPem: string;
  readonly keyPem: string;
}

/** What the sidecar needs from the server. */
export interface HallmarkServerApi {
  /** Attests with the projected token and gets an X509-SVID for `csrPem`. */
  issueSvid(projectedToken: string, csrPem: string, signal?: AbortSignal): Promise<IssuedSvid>;
  /** Trades the SVID (mTLS) for an access token. */
  login(client: ClientCertificate, signal?: AbortSignal): Promise<IssuedAccessToken>;
  /**
   * The trust domain's current X.509 trust anchors, watched for a distrusted CA; a transport
   * without it is not watched (the SVID is then renewed on a login refusal only).
   */
  trustBundle?(signal?: AbortSignal): Promise<X509TrustBundle>;
}

/**
 * The server answered with an error. `code` is the server's own code when this build knows
 * it (`ERR_POLICY_NO_REGISTRATION`...), else `ERR_SIDECAR_SERVER_REFUSED`.
 */
export class ServerRefusal extends HallmarkError {
  readonly status: number;
  constructor(code: ErrorCode, status: number, detail: string) {
    super(code, { detail });
    this.status = status;
  }

  /**
   * True for a decision rather than an outage: a 4xx other than 429. Retrying the same
   * request cannot succeed until something changes (policy, pod, token).
   */
  get definitive(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 429;
  }
}

/** True when `err` is a {@link ServerRefusal} that retrying cannot fix. */
export function isDefinitiveRefusal(err: unknown): boolean {
  return err instanceof ServerRefusal && err.definitive;
}
