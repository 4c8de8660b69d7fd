// POST /v1/apikeys/admin/rotate: the admin replaces the admin API key (`hallmark apikey rotate admin`).
import type { Authentication, TokenVerifier } from '../../authn/index.js';
import { HallmarkError } from '../../errors/index.js';
import type { RoutePlugin } from '../app.js';
import { authenticateAdmin } from '../bearer-authentication.js';
import { describeRequest } from '../request-audit.js';

const rotatedSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    api_key: { type: 'string' },
    created_at: { type: 'string' },
  },
  required: ['id', 'api_key', 'created_at'],
  additionalProperties: false,
} as const;

/** Dependencies of the API-key routes (their plugin options). */
export interface ApiKeyRouteOptions {
  /** Verifies bearer access tokens (authn's `verifier`). */
  readonly tokens: TokenVerifier;
  readonly authn: Pick<Authentication, 'rotateApiKey'>;
}

/**
 * Admin only. The new key is in this response and nowhere else (the database keeps its
 * SHA-256); the old key and every token it obtained, this caller's included, stop working.
 * The rotation commits with its `authn.api_key.rotated` row.
 */
export const apiKeyRoutes: RoutePlugin<ApiKeyRouteOptions> = async (app, deps) => {
  app.post(
    '/v1/apikeys/admin/rotate',
    { schema: { response: { 200: rotatedSchema } } },
    async (request) => {
      describeRequest(request, { action: 'authn.api_key.rotated', target: 'key:admin' });
      const identity = await authenticateAdmin(request, deps.tokens);
      const rotated = await deps.authn.rotateApiKey('admin', identity.id, request.id);
      if (rotated === undefined) {
        throw new HallmarkError('ERR_REQUEST_NOT_FOUND', { detail: 'no live admin API key' });
      }
      request.audited = true;
      return {
        id: 'admin',
        api_key: rotated.key,
        created_at: new Date(rotated.createdAt).toISOString(),
      };
    },
  );
};
