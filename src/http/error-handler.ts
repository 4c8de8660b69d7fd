// Turns every failure into `{"error": {"code", "message"}}` with the registry's status, audited.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/index.js';
import { HallmarkError, isHallmarkError, type ErrorCode } from '../errors/index.js';
import { HTTP_STATUS } from './error-status.js';
import { auditRequest } from './request-audit.js';

/** Body of every error response. `details` is only for caller-safe structured problems. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

// Fastify's own request errors, mapped onto our registry.
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'ERR_REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'ERR_REQUEST_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'ERR_REQUEST_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'ERR_REQUEST_INVALID',
  FST_ERR_VALIDATION: 'ERR_REQUEST_INVALID',
  FST_ERR_BAD_URL: 'ERR_REQUEST_INVALID',
  FST_ERR_MAX_PARAM_LENGTH: 'ERR_REQUEST_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'ERR_REQUEST_INVALID',
};

/** Normalises anything thrown into a {@link HallmarkError}. */
export function toHallmarkError(err: unknown): HallmarkError {
  if (isHallmarkError(err)) return err;
  const fastifyError = err as Partial<FastifyError>;
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (fastifyError.validation) {
    return new HallmarkError('ERR_REQUEST_INVALID', {
      message: `request is invalid: ${fastifyError.message ?? ''}`.trim(),
      cause: err,
    });
  }
  if (mapped) return new HallmarkError(mapped, { cause: err, detail: fastifyError.message });
  if (err instanceof SyntaxError)
    return new HallmarkError('ERR_REQUEST_INVALID', { cause: err, detail: err.message });
  return new HallmarkError('ERR_INTERNAL', { cause: err, detail: (err as Error)?.message });
}

function details(err: HallmarkError): unknown {
  const withProblems = err as HallmarkError & { problems?: unknown };
  return withProblems.problems;
}

/** Sends the error body; never a stack trace, never the detail. */
export function sendError(reply: FastifyReply, err: HallmarkError): FastifyReply {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  const extra = details(err);
  if (extra !== undefined) body.error.details = extra;
  // A limit that knows when a token returns has set Retry-After already; others say 1 s.
  if (err.code === 'ERR_REQUEST_RATE_LIMITED' && !reply.hasHeader('retry-after')) {
    void reply.header('retry-after', '1');
  }
  return reply.code(HTTP_STATUS[err.code]).type('application/json').send(body);
}

/**
 * Takes over the audit of a refusal instead of one row per request (the pre-authentication
 * tally); true when it did.
 */
export type RefusalTally = (request: FastifyRequest, code: ErrorCode) => boolean;

/**
 * Installs the error and not-found handlers. Refusals and failures of known routes are
 * audited (reason = code, detail only in the log), except those `tally` counts instead; if
 * that audit write fails the caller gets 503 instead — the log never silently misses a
 * decision.
 */
export function installErrorHandling(
  app: FastifyInstance,
  audit: AuditLog,
  tally?: RefusalTally,
): void {
  app.setErrorHandler(async (raw: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let err = toHallmarkError(raw);
    const status = HTTP_STATUS[err.code];
    // A throttled flood is counted in the tally and the metrics; one info line each would
    // let it fill the log instead of the audit table.
    const log =
      status >= 500
        ? request.log.error.bind(request.log)
        : request.preauth === 'throttled'
          ? request.log.debug.bind(request.log)
          : request.log.info.bind(request.log);
    log(
      {
        code: err.code,
        detail: err.detail,
        cause: status >= 500 ? (raw as Error)?.stack : undefined,
      },
      'request refused',
    );
    if (!request.audited && tally?.(request, err.code) === true) request.audited = true;
    if (!request.audited && request.routeOptions.url !== undefined) {
      try {
        await auditRequest(audit, request, status >= 500 ? 'error' : 'denied', err.code);
      } catch (auditErr) {
        request.log.error(
          { code: 'ERR_AUDIT_UNAVAILABLE', detail: (auditErr as Error).message },
          'audit write failed',
        );
        err = new HallmarkError('ERR_AUDIT_UNAVAILABLE');
      }
    }
    return sendError(reply, err);
  });
  app.setNotFoundHandler(async (_request, reply) =>
    sendError(reply, new HallmarkError('ERR_REQUEST_NOT_FOUND')),
  );
}
