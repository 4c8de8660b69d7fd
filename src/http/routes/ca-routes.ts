// POST /v1/ca/rotate: the operator prepares and activates a new CA at once (`hallmark ca rotate --now`).
import type { RequestAuthenticator } from '../../authn/index.js';
import type { CertificateAuthority } from '../../ca/index.js';
import { HallmarkError } from '../../errors/index.js';
import type { HallmarkApp, RouteInstaller } from '../app.js';
import { describeRequest } from '../request-audit.js';

const rotatedSchema = {
  type: 'object',
  properties: { active_ca: { type: 'integer' }, spiffe_sequence: { type: 'integer' } },
  required: ['active_ca', 'spiffe_sequence'],
  additionalProperties: false,
} as const;

/**
 * Admin only. The rotation itself writes the `ca.prepared` / `ca.activated` audit rows with
 * the admin as actor; the old CA stays in the bundle until it expires, so nothing breaks.
 */
export function caRoutes(deps: {
  ca: CertificateAuthority;
  authenticate: RequestAuthenticator;
}): RouteInstaller {
  return (app: HallmarkApp) => {
    app.post('/v1/ca/rotate', { schema: { response: { 200: rotatedSchema } } }, async (request) => {
      describeRequest(request, { action: 'ca.rotate', target: 'ca' });
      const identity = await deps.authenticate(request);
      describeRequest(request, { actor: identity.id });
      if (!identity.admin) throw new HallmarkError('ERR_AUTHN_NOT_ADMIN');
      await deps.ca.rotate({ wait: true, force: true, actor: identity.id, requestId: request.id });
      request.audited = true;
      return {
        active_ca: deps.ca.signingAuthority().id,
        spiffe_sequence: deps.ca.bundle().sequence,
      };
    });
  };
}
