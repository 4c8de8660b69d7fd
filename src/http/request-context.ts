// What every request carries through the app: its caller, its audit context, its limit state.
import { fastifyPlugin } from 'fastify-plugin';
import type { FastifyPluginCallback } from 'fastify';
import type { AuditAction } from '../audit/index.js';
import type { CallerIdentity } from '../authn/index.js';

/** What a route knows about the decision it is making. */
export interface RequestAuditContext {
  action: AuditAction;
  actor: string;
  target: string;
}

/** How a request stands with the pre-authentication limit (`src/http/preauth-limit.ts`). */
export type PreauthState = 'taken' | 'throttled' | undefined;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller an access token proved (`authenticate`); undefined until then. */
    identity: CallerIdentity | undefined;
    /** Set by routes as soon as they know it; used to audit refusals and errors. */
    auditContext: RequestAuditContext | undefined;
    /** True once this request's decision has been written to the audit log. */
    audited: boolean;
    /** `taken`: holds a token of its address; `throttled`: refused before any work. */
    preauth: PreauthState;
  }
}

const declareRequestContext: FastifyPluginCallback = (app, _options, done) => {
  // Declared up front so every request object has the same shape (fastify's advice for speed).
  app.decorateRequest('identity', undefined);
  app.decorateRequest('auditContext', undefined);
  app.decorateRequest('audited', false);
  app.decorateRequest('preauth', undefined);
  done();
};

/**
 * Declares the per-request fields above, once, for the whole app: not encapsulated (wrapped
 * with `fastify-plugin`), because the app's own hooks and error handler read them for every
 * route. Route plugins name it as a dependency.
 */
export const requestContext = fastifyPlugin(declareRequestContext, {
  name: 'hallmark-request-context',
  fastify: '5.x',
});
