// Per-request audit context: who is asking and what about, so refusals are audited uniformly.
import type { FastifyRequest } from 'fastify';
import {
  httpAuditAction,
  type AuditAction,
  type AuditEvent,
  type AuditLog,
} from '../audit/index.js';

/** What a route knows about the decision it is making. */
export interface RequestAuditContext {
  action: AuditAction;
  actor: string;
  target: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by routes as soon as they know it; used to audit refusals and errors. */
    auditContext: RequestAuditContext | undefined;
    /** True once this request's decision has been written to the audit log. */
    audited: boolean;
  }
}

/** Records the action a route is about to decide on. */
export function describeRequest(
  request: FastifyRequest,
  context: Partial<RequestAuditContext>,
): void {
  const current = request.auditContext ?? defaultContext(request);
  request.auditContext = { ...current, ...context };
}

/** The context used when a route failed before describing itself (e.g. a bad body). */
export function defaultContext(request: FastifyRequest): RequestAuditContext {
  const route = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
  return { action: httpAuditAction(request.method), actor: 'anonymous', target: route };
}

/** Appends the request's decision to the audit log exactly once. */
export async function auditRequest(
  audit: AuditLog,
  request: FastifyRequest,
  outcome: AuditEvent['outcome'],
  reason = '',
  override: Partial<RequestAuditContext> = {},
): Promise<void> {
  const context = { ...(request.auditContext ?? defaultContext(request)), ...override };
  request.audited = true;
  await audit.append({ ...context, outcome, reason, requestId: request.id });
}
