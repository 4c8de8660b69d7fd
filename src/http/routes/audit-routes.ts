// GET /v1/audit: the admin reads audit events after a cursor (seq), oldest first.
import { readAuditPage, type AuditLog } from '../../audit/index.js';
import type { TokenVerifier } from '../../authn/index.js';
import type { Queryable } from '../../db/index.js';
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

const eventSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    time: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    outcome: { type: 'string' },
    reason: { type: 'string' },
    request_id: { type: 'string' },
    prev_hash: { type: 'string' },
    hash: { type: 'string' },
  },
  required: [
    'seq',
    'time',
    'actor',
    'action',
    'target',
    'outcome',
    'reason',
    'request_id',
    'prev_hash',
    'hash',
  ],
  additionalProperties: false,
} as const;

const pageSchema = {
  type: 'object',
  properties: { events: { type: 'array', items: eventSchema }, next: { type: 'integer' } },
  required: ['events', 'next'],
  additionalProperties: false,
} as const;

/** Dependencies of the audit route (its plugin options). */
export interface AuditRouteOptions {
  readonly db: Queryable;
  readonly audit: AuditLog;
  /** Verifies bearer access tokens (authn's `verifier`). */
  readonly tokens: TokenVerifier;
}

/**
 * Admin only. Reading the log is not itself audited (it would grow the log on every poll of
 * a log shipper); refusals are, like every refusal. A page shows every row committed before
 * the request: rows changes staged are chained first, so a caller reads its own writes.
 */
export const auditRoutes: RoutePlugin<AuditRouteOptions> = async (app, deps) => {
  app.get(
    '/v1/audit',
    { schema: { querystring: querySchema, response: { 200: pageSchema } } },
    async (request) => {
      describeRequest(request, { action: 'audit.read', target: 'audit' });
      await authenticateAdmin(request, deps.tokens);
      const after = Number(request.query.after ?? 0);
      const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 500)));
      await deps.audit.settle();
      const page = await readAuditPage(deps.db, after, limit);
      request.audited = true;
      return {
        events: page.map((r) => ({
          seq: r.seq,
          time: r.time,
          actor: r.actor,
          action: r.action,
          target: r.target,
          outcome: r.outcome,
          reason: r.reason,
          request_id: r.requestId,
          prev_hash: r.prevHash,
          hash: r.hash,
        })),
        next: page.at(-1)?.seq ?? after,
      };
    },
  );
};
