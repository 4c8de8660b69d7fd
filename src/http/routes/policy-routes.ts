// PUT /v1/policy and GET /v1/policy: the admin loads and reads the policy document.
import type { AuditLog } from '../../audit/index.js';
import type { TokenVerifier } from '../../authn/index.js';
import { HallmarkError } from '../../errors/index.js';
import type { PgPolicyStore } from '../../policy/index.js';
import type { RoutePlugin } from '../app.js';
import { authenticateAdmin } from '../bearer-authentication.js';
import { auditRequest, changeCommitted, describeRequest } from '../request-audit.js';

/** Policy documents are YAML (JSON is YAML too); sent as the raw body. */
const POLICY_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'];

const versionSchema = {
  type: 'object',
  properties: { version: { type: 'integer' }, sha256: { type: 'string' } },
  required: ['version', 'sha256'],
  additionalProperties: false,
} as const;

const documentSchema = {
  type: 'object',
  properties: {
    version: { type: 'integer' },
    sha256: { type: 'string' },
    document: { type: 'string' },
  },
  required: ['version', 'sha256', 'document'],
  additionalProperties: false,
} as const;

/** Dependencies of the policy routes (their plugin options). */
export interface PolicyRouteOptions {
  store: PgPolicyStore;
  audit: AuditLog;
  /** Verifies bearer access tokens (authn's `verifier`). */
  tokens: TokenVerifier;
  /** Largest accepted document in bytes (matches the compiler's limit). */
  maxBytes: number;
}

/** Admin-only policy routes; every load and read (and every refusal) is audited. */
export const policyRoutes: RoutePlugin<PolicyRouteOptions> = async (app, deps) => {
  // Encapsulated: the YAML parsers apply to these two routes only.
  app.addContentTypeParser(
    POLICY_TYPES,
    { parseAs: 'string', bodyLimit: deps.maxBytes },
    (_req, body, done) => done(null, body),
  );
  app.put(
    '/v1/policy',
    { bodyLimit: deps.maxBytes, schema: { response: { 200: versionSchema } } },
    async (request) => {
      describeRequest(request, { action: 'policy.load', target: 'policy' });
      const identity = await authenticateAdmin(request, deps.tokens);
      if (typeof request.body !== 'string')
        throw new HallmarkError('ERR_REQUEST_INVALID', {
          message: 'send the policy as application/yaml',
        });
      // The store stages the `policy.load` row in the load's own transaction; identities a
      // registration may render outside its namespace are named in it.
      const loaded = await deps.store.load(request.body, identity.id, request.id);
      changeCommitted(request);
      // What this load committed; the policy in force may already be a newer replica's.
      return { version: loaded.version, sha256: loaded.sha256 };
    },
  );
  app.get('/v1/policy', { schema: { response: { 200: documentSchema } } }, async (request) => {
    describeRequest(request, { action: 'policy.read', target: 'policy' });
    await authenticateAdmin(request, deps.tokens);
    const policy = deps.store.current();
    const version = deps.store.version();
    await auditRequest(deps.audit, request, 'success', '', { target: `policy@${version}` });
    return { version, sha256: policy.sha256, document: policy.source };
  });
};
