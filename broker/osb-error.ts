// OSB error responses: status from Hallmark's one table, body in the OSB shape.
import { HallmarkError, type ErrorCode } from '../src/errors/index.js';
import { HTTP_STATUS, toHallmarkError } from '../src/http/index.js';

/** An OSB error body (@see OSB 2.17 "Service Broker Errors"). */
export interface OsbErrorBody {
  /** One of the error codes the spec defines; present only for those conditions. */
  error?: string;
  /** User-facing message; never empty. */
  description: string;
}

/**
 * Hallmark codes whose condition the spec names with an `error` string that MUST be used
 * (@see OSB 2.17 "Error Codes"). `AsyncRequired` and `RequiresApp` never occur: every
 * operation completes synchronously and no `app_guid` is required.
 */
const OSB_ERROR_NAMES: Partial<Record<ErrorCode, string>> = {
  ERR_BROKER_CONCURRENCY: 'ConcurrencyError',
  ERR_BROKER_MAINTENANCE_INFO_CONFLICT: 'MaintenanceInfoConflict',
};

/** JSON schema of {@link OsbErrorBody}, used as the response allow-list of every route. */
export const OSB_ERROR_SCHEMA = {
  type: 'object',
  properties: { error: { type: 'string' }, description: { type: 'string' } },
  required: ['description'],
  additionalProperties: false,
} as const;

/**
 * Normalises anything thrown in a broker route. Fastify's request errors become 400
 * `ERR_BROKER_REQUEST_INVALID`, including an unsupported `Content-Type` (@see OSB 2.17
 * "Content Type": a rejected content type or unprocessable body SHOULD be 400).
 */
export function toBrokerError(err: unknown): HallmarkError {
  const normalised = toHallmarkError(err);
  if (
    normalised.code === 'ERR_REQUEST_INVALID' ||
    normalised.code === 'ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE'
  ) {
    return new HallmarkError('ERR_BROKER_REQUEST_INVALID', {
      message:
        normalised.code === 'ERR_REQUEST_INVALID'
          ? normalised.message
          : 'body must be application/json',
      detail: normalised.detail,
      cause: err,
    });
  }
  return normalised;
}

/** Status and OSB body of an error. 5xx bodies say only what the registry says. */
export function osbError(err: HallmarkError): { status: number; body: OsbErrorBody } {
  const status = HTTP_STATUS[err.code];
  const name = OSB_ERROR_NAMES[err.code];
  const body: OsbErrorBody = { description: err.message || err.code };
  if (name !== undefined) body.error = name;
  return { status, body };
}
