// POST /v1/authn/login (mTLS SVID → access token) and POST /v1/authn/apikey (API key → access token).
import type { TLSSocket } from 'node:tls';
import type { AuditLog } from '../../audit/index.js';
import type { Authentication } from '../../authn/index.js';
import type { RoutePlugin } from '../app.js';
import { auditRequest, describeRequest } from '../request-audit.js';

const tokenResponseSchema = {
  type: 'object',
  properties: {
    token: { type: 'string' },
    expires_at: { type: 'string' },
  },
  required: ['token', 'expires_at'],
  additionalProperties: false,
} as const;

// Length limits only: a malformed id is refused like an unknown one (same code, same work).
const apiKeyBodySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    api_key: { type: 'string', minLength: 1, maxLength: 512 },
  },
  required: ['id', 'api_key'],
  additionalProperties: false,
} as const;

// Login takes no input but the client certificate: no body, or an empty JSON object.
const loginBodySchema = {
  type: 'object',
  properties: {},
  additionalProperties: false,
} as const;

/** Dependencies of the authentication routes (their plugin options). */
export interface AuthnRouteOptions {
  readonly authn: Pick<Authentication, 'clientSvid' | 'loginWorkload' | 'loginApiKey'>;
  readonly audit: AuditLog;
}

/** Audit actors are caller-influenced for unknown API key ids; keep them bounded and printable. */
function apiKeyActor(id: string): string {
  return `key:${id.slice(0, 128).replace(/[^\x21-\x7e]/g, '?')}`;
}

/**
 * The two ways to obtain an access token. Refusals carry only their code; the reason goes to
 * the log and the audit row (by the error handler, with the actor described here). Success is
 * audited before the token is sent: no audit row, no token.
 */
export const authnRoutes: RoutePlugin<AuthnRouteOptions> = async (app, deps) => {
  app.post(
    '/v1/authn/login',
    {
      schema: { body: loginBodySchema, response: { 200: tokenResponseSchema } },
      // No body at all is the usual login (the certificate says everything): validate it as {}.
      // A callback hook, not an async one: no promise and microtask per login for one assignment.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
    async (request) => {
      describeRequest(request, {
        action: 'authn.login',
        actor: 'anonymous',
        target: 'access-token',
      });
      const svid = deps.authn.clientSvid(request.raw.socket as TLSSocket);
      const spiffeId = svid.spiffeId.toString();
      describeRequest(request, { actor: spiffeId, target: `serial=${svid.serialHex}` });
      const issued = await deps.authn.loginWorkload(svid);
      await auditRequest(deps.audit, request, 'success', '', { target: `jti=${issued.tokenId}` });
      return { token: issued.token, expires_at: new Date(issued.expiresAt).toISOString() };
    },
  );

  app.post(
    '/v1/authn/apikey',
    { schema: { body: apiKeyBodySchema, response: { 200: tokenResponseSchema } } },
    async (request) => {
      const actor = apiKeyActor(request.body.id);
      describeRequest(request, { action: 'authn.apikey', actor, target: 'access-token' });
      const { token } = await deps.authn.loginApiKey(request.body.id, request.body.api_key);
      await auditRequest(deps.audit, request, 'success', '', { target: `jti=${token.tokenId}` });
      return { token: token.token, expires_at: new Date(token.expiresAt).toISOString() };
    },
  );
};
