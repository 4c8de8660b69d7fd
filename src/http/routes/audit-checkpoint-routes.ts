// GET /v1/audit/checkpoints (admin: signed chain heads after a seq) and GET /v1/audit/keys (public JWKS).
import type { AuditLog } from '../../audit/index.js';
import type { TokenVerifier } from '../../authn/index.js';
import { readCheckpoints, type CheckpointKeyring } from '../../checkpoint/index.js';
import type { Queryable } from '../../db/index.js';
import type { FromSchema } from 'json-schema-to-ts';
import type { RoutePlugin } from '../app.js';
import { authenticateAdmin } from '../bearer-authentication.js';
import { describeRequest } from '../request-audit.js';

const querySchema = {
  type: 'object',
  properties: {
    after: { type: 'string', pattern: '^[0-9]{1,15}$' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
  additionalProperties: false,
} as const;

const checkpointSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    hash: { type: 'string' },
    time: { type: 'string' },
    kid: { type: 'string' },
    jws: { type: 'string' },
  },
  required: ['seq', 'hash', 'time', 'kid', 'jws'],
  additionalProperties: false,
} as const;

const pageSchema = {
  type: 'object',
  properties: {
    checkpoints: { type: 'array', items: checkpointSchema },
    next: { type: 'integer' },
  },
  required: ['checkpoints', 'next'],
  additionalProperties: false,
} as const;

const jwksSchema = {
  type: 'object',
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kty: { type: 'string' },
          crv: { type: 'string' },
          x: { type: 'string' },
          y: { type: 'string' },
          kid: { type: 'string' },
          alg: { type: 'string' },
          use: { type: 'string' },
        },
        required: ['kty', 'crv', 'x', 'y', 'kid', 'alg'],
        additionalProperties: false,
      },
    },
  },
  required: ['keys'],
  additionalProperties: false,
} as const;

/** Dependencies of the checkpoint routes (their plugin options). */
export interface AuditCheckpointRouteOptions {
  readonly db: Queryable;
  readonly audit: AuditLog;
  /** Verifies bearer access tokens (authn's `verifier`). */
  readonly tokens: TokenVerifier;
  readonly keyring: CheckpointKeyring;
}

/**
 * The checkpoints page is admin-only and, like `GET /v1/audit`, not audited when it succeeds
 * (a shipper polling it would grow the log); refusals are. The keys are public: they are what
 * anyone verifies a checkpoint (or a detached signature) with, offline, and hold no secret.
 */
export const auditCheckpointRoutes: RoutePlugin<AuditCheckpointRouteOptions> = async (
  app,
  deps,
) => {
  app.get(
    '/v1/audit/checkpoints',
    { schema: { querystring: querySchema, response: { 200: pageSchema } } },
    async (request) => {
      describeRequest(request, { action: 'audit.read', target: 'audit/checkpoints' });
      await authenticateAdmin(request, deps.tokens);
      const after = Number(request.query.after ?? 0);
      const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 500)));
      const page = await readCheckpoints(deps.db, after, limit);
      request.audited = true;
      return { checkpoints: page, next: page.at(-1)?.seq ?? after };
    },
  );
  // jose's JWK leaves every member optional; a checkpoint key is built with all the schema
  // requires (src/checkpoint/checkpoint-key.ts), and the response serializer refuses one that is not.
  app.get(
    '/v1/audit/keys',
    { schema: { response: { 200: jwksSchema } } },
    async () => deps.keyring.jwks() as FromSchema<typeof jwksSchema>,
  );
};
