// The operator's CA routes: rotate now, list the CAs, distrust a compromised one (all admin).
import type { AuditLog } from '../../audit/index.js';
import type { TokenVerifier } from '../../authn/index.js';
import type { CertificateAuthority } from '../../ca/index.js';
import type { RoutePlugin } from '../app.js';
import { authenticateAdmin } from '../bearer-authentication.js';
import { auditRequest, describeRequest } from '../request-audit.js';

const rotatedSchema = {
  type: 'object',
  properties: { active_ca: { type: 'integer' }, spiffe_sequence: { type: 'integer' } },
  required: ['active_ca', 'spiffe_sequence'],
  additionalProperties: false,
} as const;

const distrustBodySchema = {
  type: 'object',
  properties: {
    ca_id: { type: 'integer', minimum: 1 },
    rotate: { type: 'boolean' },
  },
  required: ['ca_id'],
  additionalProperties: false,
} as const;

const distrustedSchema = {
  type: 'object',
  properties: {
    distrusted_ca: { type: 'integer' },
    changed: { type: 'boolean' },
    active_ca: { type: 'integer' },
    spiffe_sequence: { type: 'integer' },
  },
  required: ['distrusted_ca', 'changed', 'active_ca', 'spiffe_sequence'],
  additionalProperties: false,
} as const;

const authoritiesSchema = {
  type: 'object',
  properties: {
    authorities: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          status: { type: 'string' },
          not_before: { type: 'string' },
          not_after: { type: 'string' },
          distrusted_at: { type: ['string', 'null'] },
          certificate: { type: 'string' },
        },
        required: ['id', 'status', 'not_before', 'not_after', 'distrusted_at', 'certificate'],
        additionalProperties: false,
      },
    },
  },
  required: ['authorities'],
  additionalProperties: false,
} as const;

const iso = (ms: number): string => new Date(ms).toISOString();

/** Dependencies of the CA routes (their plugin options). */
export interface CaRouteOptions {
  readonly ca: CertificateAuthority;
  readonly audit: AuditLog;
  /** Verifies bearer access tokens (authn's `verifier`). */
  readonly tokens: TokenVerifier;
}

/**
 * Admin only. Rotation and distrust write their own audit rows (`ca.prepared`, `ca.activated`,
 * `ca.distrust`) with the admin as actor, in the transaction of the change; refusals are
 * audited by the error handler with their code.
 */
export const caRoutes: RoutePlugin<CaRouteOptions> = async (app, deps) => {
  // The old CA stays in the bundle until it expires, so nothing breaks.
  app.post('/v1/ca/rotate', { schema: { response: { 200: rotatedSchema } } }, async (request) => {
    describeRequest(request, { action: 'ca.rotate', target: 'ca' });
    const identity = await authenticateAdmin(request, deps.tokens);
    await deps.ca.rotate({ wait: true, force: true, actor: identity.id, requestId: request.id });
    request.audited = true;
    return {
      active_ca: deps.ca.signingAuthority().id,
      spiffe_sequence: deps.ca.bundle().sequence,
    };
  });

  app.get(
    '/v1/ca/authorities',
    { schema: { response: { 200: authoritiesSchema } } },
    async (request) => {
      describeRequest(request, { action: 'ca.read', target: 'ca' });
      await authenticateAdmin(request, deps.tokens);
      const authorities = deps.ca.authorities().map((ca) => ({
        id: ca.id,
        status: ca.status,
        not_before: iso(ca.notBefore),
        not_after: iso(ca.notAfter),
        distrusted_at: ca.distrustedAt === undefined ? null : iso(ca.distrustedAt),
        certificate: ca.certificatePem,
      }));
      await auditRequest(deps.audit, request, 'success');
      return { authorities };
    },
  );

  // A compromised CA leaves the bundle at once; `rotate` replaces the signing CA in the same
  // transaction, which distrusting the signing CA requires.
  app.post(
    '/v1/ca/distrust',
    { schema: { body: distrustBodySchema, response: { 200: distrustedSchema } } },
    async (request) => {
      const { ca_id: id, rotate = false } = request.body;
      describeRequest(request, { action: 'ca.distrust', target: `ca:${id}` });
      const identity = await authenticateAdmin(request, deps.tokens);
      const result = await deps.ca.distrust({
        id,
        rotate,
        actor: identity.id,
        requestId: request.id,
      });
      if (result.changed) request.audited = true;
      // A repeat changes nothing: its row records the request, not a second distrust.
      else await auditRequest(deps.audit, request, 'success', '', { target: `ca:${id} already` });
      return {
        distrusted_ca: id,
        changed: result.changed,
        active_ca: result.activeCa,
        spiffe_sequence: result.sequence,
      };
    },
  );
};
