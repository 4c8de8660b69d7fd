// Per-request audit context: who is asking and what about, so refusals are audited uniformly.
import type { FastifyRequest } from 'fastify';
import { httpAuditAction, type AuditEvent, type AuditLog } from '../audit/index.js';
import type { RequestAuditContext } from './request-context.js';

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

/** The request's decision as an audit event. */
export function requestEvent(
  request: FastifyRequest,
  outcome: AuditEvent['outcome'],
  reason = '',
  override: Partial<RequestAuditContext> = {},
): AuditEvent {
  const context = { ...(request.auditContext ?? defaultContext(request)), ...override };
  return { ...context, outcome, reason, requestId: request.id };
}

/** Appends the request's decision to the audit log exactly once. */
export async function auditRequest(
  audit: AuditLog,
  request: FastifyRequest,
  outcome: AuditEvent['outcome'],
  reason = '',
  override: Partial<RequestAuditContext> = {},
): Promise<void> {
  const event = requestEvent(request, outcome, reason, override);
  request.audited = true;
  await audit.append(event);
}

/**
 * The success event of a state change the request makes, for the change to stage in its own
 * transaction. Call {@link changeCommitted} once it has committed: until then the request is
 * not audited, so a rolled-back change is audited as the failure it is.
 */
export function changeEvent(
  request: FastifyRequest,
  override: Partial<RequestAuditContext> = {},
): AuditEvent {
  return requestEvent(request, 'success', '', override);
}

/** Records that the request's change, with its staged audit row, has committed. */
export function changeCommitted(request: FastifyRequest): void {
  request.audited = true;
}
