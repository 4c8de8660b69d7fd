// Who is calling: the identity an access token proves, as routes and policy see it.
import type { FastifyRequest } from 'fastify';

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
 * Verifies a request's `Authorization: Bearer <access token>` and returns the caller.
 * Throws `ERR_AUTHN_TOKEN_MISSING`, `ERR_AUTHN_TOKEN_INVALID` or `ERR_AUTHN_TOKEN_REVOKED`.
 */
export type RequestAuthenticator = (request: FastifyRequest) => Promise<CallerIdentity>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access-token check of routes that require one. */
    identity: CallerIdentity | undefined;
  }
}
