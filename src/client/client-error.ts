// The one error the client throws: the server's stable code and HTTP status, or a local code.

/**
 * Codes the client raises itself, when there is no server answer to report:
 * - `ERR_CLIENT_TIMEOUT`: no complete answer within the call's time limit;
 * - `ERR_CLIENT_UNREACHABLE`: the connection failed (refused, reset, DNS);
 * - `ERR_CLIENT_TLS`: the server's certificate did not verify against the trusted CAs;
 * - `ERR_CLIENT_BAD_RESPONSE`: the answer is not what the API promises (shape, size, type);
 * - `ERR_CLIENT_HTTP_STATUS`: an error status without a Hallmark error body (e.g. a proxy);
 * - `ERR_CLIENT_TOKEN_UNAVAILABLE`: the access-token file is missing, unreadable or empty;
 * - `ERR_CLIENT_BUNDLE_UNAVAILABLE`: the CA bundle file is missing, unreadable or empty.
 */
export type ClientLocalCode =
  | 'ERR_CLIENT_TIMEOUT'
  | 'ERR_CLIENT_UNREACHABLE'
  | 'ERR_CLIENT_TLS'
  | 'ERR_CLIENT_BAD_RESPONSE'
  | 'ERR_CLIENT_HTTP_STATUS'
  | 'ERR_CLIENT_TOKEN_UNAVAILABLE'
  | 'ERR_CLIENT_BUNDLE_UNAVAILABLE';

/** Options for {@link HallmarkClientError}. */
export interface HallmarkClientErrorOptions {
  /** HTTP status of the server's answer; 0 when there was none. */
  status?: number;
  /** The error body's `details` (e.g. `{path}` for secret refusals), as the server sent it. */
  details?: unknown;
  cause?: unknown;
}

/**
 * A failed call. `code` is the server's stable code (`ERR_POLICY_DENIED`, …) when the server
 * answered with an error body, else a {@link ClientLocalCode}. The message is the server's
 * caller-safe message; it never contains a secret value or a credential.
 */
export class HallmarkClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(code: string, message: string, options: HallmarkClientErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'HallmarkClientError';
    this.code = code;
    this.status = options.status ?? 0;
    this.details = options.details;
  }

  /** The secret path a refusal names (`details.path`), if it names one. */
  get path(): string | undefined {
    const details = this.details as { path?: unknown } | undefined;
    return typeof details?.path === 'string' ? details.path : undefined;
  }
}

/** True when `err` is a {@link HallmarkClientError}, optionally with the given code. */
export function isHallmarkClientError(err: unknown, code?: string): err is HallmarkClientError {
  return err instanceof HallmarkClientError && (code === undefined || err.code === code);
}
