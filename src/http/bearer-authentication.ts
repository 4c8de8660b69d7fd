// Bearer-token authentication of HTTP requests: authn's token → caller, adapted to a request.
import type { FastifyRequest } from 'fastify';
import { requireAdmin, type CallerIdentity, type TokenVerifier } from '../authn/index.js';
import { HallmarkError } from '../errors/index.js';
import { describeRequest } from './request-audit.js';

// @see RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of `Authorization: Bearer <token>`, or `undefined` when there is none. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  return BEARER.exec(header.trim())?.[1];
}

/**
 * Verifies the request's bearer access token, sets `request.identity`, and names the caller
 * as the actor of the request's audit row (so refusals further on are audited against them).
 * @throws HallmarkError ERR_AUTHN_TOKEN_MISSING, ERR_AUTHN_TOKEN_INVALID, ERR_AUTHN_TOKEN_REVOKED
 */
export async function authenticate(
  request: FastifyRequest,
  tokens: TokenVerifier,
): Promise<CallerIdentity> {
  const token = bearerToken(request);
  if (token === undefined) {
    throw new HallmarkError('ERR_AUTHN_TOKEN_MISSING', { detail: 'no bearer token' });
  }
  const identity = await tokens.verify(token);
  request.identity = identity;
  describeRequest(request, { actor: identity.id });
  return identity;
}

/**
 * {@link authenticate}, then authn's `requireAdmin`: the gate of every admin-only route.
 * @throws HallmarkError ERR_AUTHN_TOKEN_* as above, ERR_AUTHN_NOT_ADMIN
 */
export async function authenticateAdmin(
  request: FastifyRequest,
  tokens: TokenVerifier,
): Promise<CallerIdentity> {
  return requireAdmin(await authenticate(request, tokens));
}
