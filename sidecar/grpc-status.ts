// The one table from Hallmark errors to gRPC statuses at the Workload API's edge (the sidecar's
// core speaks HallmarkError, like the server's core never mentions HTTP).
import { status } from '@grpc/grpc-js';
import { HallmarkError } from '../src/errors/index.js';
import type { ErrorCode } from '../src/errors/index.js';
import { ServerRefusal } from './server-api.js';

/** A status to end a call with; `details` is what the client sees. */
export interface GrpcFailure {
  readonly code: status;
  readonly details: string;
}

/**
 * Local conditions. @see SPIFFE Workload Endpoint §6 and Appendix A: a missing security header
 * or mandatory field is InvalidArgument (do not retry), an endpoint that cannot serve now is
 * Unavailable (retry with backoff), a caller without that identity is PermissionDenied.
 */
const BY_CODE: Partial<Record<ErrorCode, status>> = {
  ERR_WORKLOADAPI_HEADER_MISSING: status.INVALID_ARGUMENT,
  ERR_WORKLOADAPI_REQUEST_INVALID: status.INVALID_ARGUMENT,
  ERR_SPIFFE_ID_INVALID: status.INVALID_ARGUMENT,
  ERR_WORKLOADAPI_SVID_UNAVAILABLE: status.UNAVAILABLE,
  ERR_WORKLOADAPI_STOPPING: status.UNAVAILABLE,
  ERR_WORKLOADAPI_NOT_ENTITLED: status.PERMISSION_DENIED,
  ERR_SIDECAR_SERVER_UNREACHABLE: status.UNAVAILABLE,
  ERR_SIDECAR_TRUST_UNAVAILABLE: status.UNAVAILABLE,
};

/**
 * An answer from the Hallmark server, judged by its HTTP status: 400 is the request's fault,
 * 401/403 a refusal of this workload, 404 a server without the route (older version), 429 and
 * 5xx an outage the client should wait out.
 */
function byHttpStatus(httpStatus: number): status {
  if (httpStatus === 400) return status.INVALID_ARGUMENT;
  if (httpStatus === 401 || httpStatus === 403) return status.PERMISSION_DENIED;
  if (httpStatus === 404) return status.UNIMPLEMENTED;
  if (httpStatus === 429 || httpStatus >= 500) return status.UNAVAILABLE;
  return status.INTERNAL;
}

/**
 * The status for `err`. Details are `<code>: <message>` — the message is caller-safe by the
 * HallmarkError contract (never `detail`), and for JWT-SVID validation it is go-spiffe's
 * reason, which is what SPIFFE clients expect to see. Anything unexpected is Internal with
 * no text from the error itself.
 */
export function grpcFailureOf(err: unknown): GrpcFailure {
  if (!(err instanceof HallmarkError)) {
    return { code: status.INTERNAL, details: 'ERR_INTERNAL: internal error' };
  }
  const details = `${err.code}: ${err.message}`;
  if (err instanceof ServerRefusal) return { code: byHttpStatus(err.status), details };
  const code =
    BY_CODE[err.code] ??
    // Local JWT-SVID validation refusals: the token presented is at fault (SPIRE answers the same).
    (err.code.startsWith('ERR_JWTSVID_') ? status.INVALID_ARGUMENT : status.INTERNAL);
  return { code, details };
}
