// POST /v1/svid/jwt: mTLS with an X509-SVID → a JWT-SVID for the requested audiences.
import type { TLSSocket } from 'node:tls';
import type { AuditLog } from '../../audit/index.js';
import { HallmarkError } from '../../errors/index.js';
import type { JwtSvidIssuer } from '../../jwtsvid/index.js';
import type { VerifiedX509Svid } from '../../x509/index.js';
import type { RoutePlugin } from '../app.js';
import { auditRequest, describeRequest } from '../request-audit.js';

// Structure only: counts and lengths are the issuer's rules, so every caller (HTTP or not)
// gets ERR_JWTSVID_AUDIENCE_INVALID for them; the body limit bounds the work.
const bodySchema = {
  type: 'object',
  properties: { audience: { type: 'array', items: { type: 'string' } } },
  required: ['audience'],
  additionalProperties: false,
} as const;

const responseSchema = {
  type: 'object',
  properties: {
    spiffe_id: { type: 'string' },
    token: { type: 'string' },
    expires_at: { type: 'string' },
  },
  required: ['spiffe_id', 'token', 'expires_at'],
  additionalProperties: false,
} as const;

/** The X509-SVID of the caller as far as this route needs it. */
export type JwtSvidCaller = VerifiedX509Svid;

/** Dependencies of the JWT-SVID route (its plugin options). */
export interface JwtSvidRouteOptions {
  /**
   * The caller's verified X509-SVID from the mTLS client certificate (`authn.clientSvid`).
   * @throws HallmarkError ERR_AUTHN_CLIENT_CERT_REQUIRED, ERR_AUTHN_CLIENT_CERT_INVALID
   */
  readonly clientSvid: (socket: TLSSocket) => JwtSvidCaller;
  readonly issuer: Pick<JwtSvidIssuer, 'issue'>;
  readonly audit: AuditLog;
  /**
   * Optional re-checks of the caller beyond its certificate (issuance record, pod still
   * present, still registered) — what login does — so a deleted pod stops minting JWT-SVIDs.
   */
  readonly checkCaller?: (svid: JwtSvidCaller) => Promise<void>;
  /** Optional per-identity limiter (`RateLimiter`); refused takes → ERR_REQUEST_RATE_LIMITED. */
  readonly limiter?: { take(key: string): boolean };
}

/**
 * Issues JWT-SVIDs to holders of an X509-SVID of this trust domain. Refusals carry only their
 * code; the error handler audits them with the actor described here. Success is audited
 * (`svid.jwt.issued`, actor = SPIFFE ID, target = the audiences) before the token is sent.
 */
export const jwtSvidRoutes: RoutePlugin<JwtSvidRouteOptions> = async (app, deps) => {
  app.post(
    '/v1/svid/jwt',
    { bodyLimit: 16_384, schema: { body: bodySchema, response: { 200: responseSchema } } },
    async (request) => {
      describeRequest(request, {
        action: 'svid.jwt.denied',
        actor: 'anonymous',
        target: 'jwt-svid',
      });
      const svid = deps.clientSvid(request.raw.socket as TLSSocket);
      const spiffeId = svid.spiffeId.toString();
      // JSON keeps audiences that contain commas or spaces unambiguous in the audit row.
      const target = `aud=${JSON.stringify(request.body.audience.slice(0, 16))}`;
      describeRequest(request, { actor: spiffeId, target });
      if (deps.limiter !== undefined && !deps.limiter.take(spiffeId)) {
        throw new HallmarkError('ERR_REQUEST_RATE_LIMITED');
      }
      await deps.checkCaller?.(svid);
      const issued = await deps.issuer.issue({
        spiffeId: svid.spiffeId,
        audience: request.body.audience,
        notAfter: svid.notAfter,
      });
      await auditRequest(deps.audit, request, 'success', '', {
        action: 'svid.jwt.issued',
        target: `aud=${JSON.stringify(issued.audience)} kid=${issued.kid}`,
      });
      return {
        spiffe_id: issued.spiffeId,
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString(),
      };
    },
  );
};
