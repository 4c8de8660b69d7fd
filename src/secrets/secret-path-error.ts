// Secret errors that name the path they are about, so a batch caller learns which one failed.
import { ERROR_CODES, HallmarkError, type ErrorCode } from '../errors/index.js';

/** The structured part of a path-specific error; the HTTP layer sends it as `error.details`. */
export interface SecretPathDetails {
  /** The path as the caller sent it (it is the caller's own input, never a secret). */
  readonly path: string;
}

/** How much of a path a message quotes: enough to recognise it, bounded for hostile input. */
const QUOTED_PATH_CHARS = 120;

/** A path as it appears in messages and audit targets: JSON-quoted if invalid, bounded. */
export function quotePath(path: string): string {
  const shown = path.length > QUOTED_PATH_CHARS ? `${path.slice(0, QUOTED_PATH_CHARS)}…` : path;
  // JSON escaping makes NUL, control characters and lone surrogates visible and storable.
  return JSON.stringify(shown);
}

/**
 * A refusal about one secret path: `ERR_SECRET_BAD_PATH`, `ERR_SECRET_NOT_FOUND` or
 * `ERR_POLICY_DENIED`. The message names the path; `problems` (the error handler's hook for
 * caller-safe structured details) carries it verbatim for clients such as `hallmark exec`.
 */
export class SecretPathError extends HallmarkError {
  readonly problems: SecretPathDetails;
  readonly path: string;

  constructor(code: ErrorCode, path: string, options: { detail?: string; cause?: unknown } = {}) {
    super(code, { ...options, message: `${ERROR_CODES[code]}: ${quotePath(path)}` });
    this.name = 'SecretPathError';
    this.path = path;
    this.problems = { path };
  }
}

/** `ERR_SECRET_NOT_FOUND` naming `path` (and the version asked for, if any). */
export function secretNotFound(path: string, version?: number): SecretPathError {
  return new SecretPathError('ERR_SECRET_NOT_FOUND', path, {
    detail: version === undefined ? 'no version stored' : `no version ${version}`,
  });
}
