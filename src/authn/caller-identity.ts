// Who is calling: the identity an access token proves, as routes and policy see it.
import { HallmarkError } from '../errors/index.js';

/** The authenticated caller of a request. */
export interface CallerIdentity {
  /** Policy identity: a SPIFFE ID (`spiffe://td/ns/a/sa/b`) or `key:<api key id>`. */
  readonly id: string;
  readonly kind: 'workload' | 'apikey';
  /** True only for the admin API key identity. */
  readonly admin: boolean;
  /** UID of the pod the workload was attested in, when known (enables pod-deletion revocation). */
  readonly podUid: string | undefined;
  /** `jti` of the access token used. */
  readonly tokenId: string;
  /** Token expiry, epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * Access token → caller: what authentication offers every transport (the HTTP layer reads the
 * token from `Authorization: Bearer`). {@link AccessTokenVerifier} is the real one.
 */
export interface TokenVerifier {
  /** @throws HallmarkError ERR_AUTHN_TOKEN_INVALID, ERR_AUTHN_TOKEN_REVOKED */
  verify(token: string): Promise<CallerIdentity>;
}

/**
 * Returns `identity` if it is the admin; otherwise refuses. The one admin check: every
 * admin-only operation goes through it.
 * @throws HallmarkError ERR_AUTHN_NOT_ADMIN
 */
export function requireAdmin(identity: CallerIdentity | undefined): CallerIdentity {
  if (identity === undefined || !identity.admin) {
    throw new HallmarkError('ERR_AUTHN_NOT_ADMIN', {
      detail: `${identity?.id ?? 'anonymous'} is not the admin`,
    });
  }
  return identity;
}
