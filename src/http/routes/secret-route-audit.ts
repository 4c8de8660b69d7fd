// Audit rows of the secret routes: every refusal is one `secret.denied` row, committed first.
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/index.js';
import { HallmarkError } from '../../errors/index.js';
import { toHallmarkError } from '../error-handler.js';
import { HTTP_STATUS } from '../error-status.js';
import { auditRequest } from '../request-audit.js';

/** What a secret request asked to do. */
export type SecretOperation = 'read' | 'write';

/**
 * Runs a secret route's decision. A refusal (a 4xx code: bad path, denied, not found, bad
 * value, no or bad token) is appended as action `secret.denied`, target `<operation> <what>`,
 * reason = the code, before the error goes on to the error handler (which then does not audit
 * it again). Failures (5xx, e.g. `ERR_SECRET_INTEGRITY`) are left to the error handler, which
 * audits them under the route's own action with outcome `error`. If the audit write fails the
 * caller gets 503 instead: no refusal goes unrecorded.
 */
export async function auditRefusals<T>(
  audit: AuditLog,
  request: FastifyRequest,
  operation: SecretOperation,
  target: () => string,
  decide: () => Promise<T>,
): Promise<T> {
  try {
    return await decide();
  } catch (raw) {
    if (request.audited) throw raw;
    const err = toHallmarkError(raw);
    if (HTTP_STATUS[err.code] >= 500) throw raw;
    try {
      await auditRequest(audit, request, 'denied', err.code, {
        action: 'secret.denied',
        target: `${operation} ${target()}`,
      });
    } catch (cause) {
      throw new HallmarkError('ERR_AUDIT_UNAVAILABLE', {
        cause,
        detail: (cause as Error)?.message,
      });
    }
    throw raw;
  }
}

/**
 * Appends the request's success row (committed before the response is sent). A failure of any
 * kind becomes `ERR_AUDIT_UNAVAILABLE` (503), so a value is never sent without its row.
 */
export async function auditSuccess(
  audit: AuditLog,
  request: FastifyRequest,
  target: string,
): Promise<void> {
  try {
    await auditRequest(audit, request, 'success', '', { target });
  } catch (cause) {
    throw new HallmarkError('ERR_AUDIT_UNAVAILABLE', { cause, detail: (cause as Error)?.message });
  }
}
