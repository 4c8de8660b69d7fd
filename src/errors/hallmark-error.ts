// The one error base class: a stable code, a caller-safe message, and internal detail.
import { ERROR_CODES, type ErrorCode } from './codes.js';

/** Options for {@link HallmarkError}. */
export interface HallmarkErrorOptions {
  /** Caller-safe message; defaults to the registry text for the code. */
  message?: string;
  /** Internal detail for logs and audit `reason`; never sent to the caller. */
  detail?: string;
  cause?: unknown;
}

/**
 * An error with a stable code. `message` is safe to show to the caller; `detail` is for
 * logs and the audit row only (authentication failures tell the caller just the code).
 */
export class HallmarkError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, options: HallmarkErrorOptions = {}) {
    super(options.message ?? ERROR_CODES[code], { cause: options.cause });
    this.name = 'HallmarkError';
    this.code = code;
    this.detail = options.detail;
  }
}

/** True when `err` is a {@link HallmarkError}, optionally with the given code. */
export function isHallmarkError(err: unknown, code?: ErrorCode): err is HallmarkError {
  return err instanceof HallmarkError && (code === undefined || err.code === code);
}
