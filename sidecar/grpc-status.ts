// The one table from Hallmark errors to gRPC statuses at the Workload API's edge (the sidecar's
// core speaks HallmarkError, like the server's core never mentions HTTP).
import type { status } from '@grpc/grpc-js';
import { HallmarkError } from '../src/errors/index.js';
import type { ErrorCode } from '../src/errors/index.js';
import { ServerRefusal } from './server-api.js';

/**
 * The codes the Workload API answers with, fixed by the gRPC spec (doc/statuscodes.md). Plain
 * numbers so that the sidecar loads grpc-js only when it serves the socket (`--once` never does).
 */
export const GRPC_STATUS = Object.freeze({
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const satisfies Record<string, status>);

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
  ERR_WORKLOADAPI_HEADER_MISSING: GRPC_STATUS.INVALID_ARGUMENT,
  ERR_WORKLOADAPI_REQUEST_INVALID: GRPC_STATUS.INVALID_ARGUMENT,
  ERR_SPIFFE_ID_INVALID: GRPC_STATUS.INVALID_ARGUMENT,
  ERR_WORKLOADAPI_SVID_UNAVAILABLE: GRPC_STATUS.UNAVAILABLE,
  ERR_WORKLOADAPI_STOPPING: GRPC_STATUS.UNAVAILABLE,
  ERR_WORKLOADAPI_NOT_ENTITLED: GRPC_STATUS.PERMISSION_DENIED,
  ERR_SIDECAR_SERVER_UNREACHABLE: GRPC_STATUS.UNAVAILABLE,
  ERR_SIDECAR_TRUST_UNAVAILABLE: GRPC_STATUS.UNAVAILABLE,
};

/**
 * An answer from the Hallmark server, judged by its HTTP status: 400 is the request's fault,
 * 401/403 a refusal of this workload, 404 a server without the route (older version), 429 and
 * 5xx an outage the client should wait out.
 */
function byHttpStatus(httpStatus: number): status {
  if (httpStatus === 400) return GRPC_STATUS.INVALID_ARGUMENT;
  if (httpStatus === 401 || httpStatus === 403) return GRPC_STATUS.PERMISSION_DENIED;
  if (httpStatus === 404) return GRPC_STATUS.UNIMPLEMENTED;
  if (httpStatus === 429 || httpStatus >= 500) return GRPC_STATUS.UNAVAILABLE;
  return GRPC_STATUS.INTERNAL;
}

/**
 * The status for `err`. Details are `<code>: <message>` — the message is caller-safe by the
 * HallmarkError contract (never `detail`), and for JWT-SVID validation it is go-spiffe's
 * reason, which is what SPIFFE clients expect to see. Anything unexpected is Internal with
 * no text from the error itself.
 */
export function grpcFailureOf(err: unknown): GrpcFailure {
  if (!(err instanceof HallmarkError)) {
    return { code: GRPC_STATUS.INTERNAL, details: 'ERR_INTERNAL: internal error' };
  }
  const details = `${err.code}: ${err.message}`;
  if (err instanceof ServerRefusal) return { code: byHttpStatus(err.status), details };
  const code =
    BY_CODE[err.code] ??
    // Local JWT-SVID validation refusals: the token presented is at fault (SPIRE answers the same).
    (err.code.startsWith('ERR_JWTSVID_') ? GRPC_STATUS.INVALID_ARGUMENT : GRPC_STATUS.INTERNAL);
  return { code, details };
}
