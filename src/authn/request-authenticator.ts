// Bearer-token authentication of HTTP requests, and the admin gate.
import type { FastifyRequest } from 'fastify';
import { HallmarkError } from '../errors/index.js';
import { describeRequest } from '../http/index.js';
import type { AccessTokenVerifier } from './access-token-verifier.js';
import type { CallerIdentity, RequestAuthenticator } from './caller-identity.js';

// @see RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of `Authorization: Bearer <token>`, or `undefined` when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header.trim())?.[1];
}

/**
 * A {@link RequestAuthenticator}: verifies the bearer access token, sets `request.identity`,
 * and names the caller as the actor of the request's audit row (so refusals further on are
 * audited against them).
 * @throws HallmarkError ERR_AUTHN_TOKEN_MISSING, ERR_AUTHN_TOKEN_INVALID, ERR_AUTHN_TOKEN_REVOKED
 */
export function createAuthenticator(
  verifier: Pick<AccessTokenVerifier, 'verify'>,
): RequestAuthenticator {
  return async (request) => {
    const token = bearerToken(request);
    if (token === undefined) {
      throw new HallmarkError('ERR_AUTHN_TOKEN_MISSING', { detail: 'no bearer token' });
    }
    const identity = await verifier.verify(token);
    request.identity = identity;
    describeRequest(request, { actor: identity.id });
    return identity;
  };
}

/**
 * Returns `identity` if it is the admin; otherwise refuses.
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
