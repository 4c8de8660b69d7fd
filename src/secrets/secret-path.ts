// Secret paths: `[A-Za-z0-9._-]` segments joined by `/`, checked byte by byte, never decoded.
import { SecretPathError } from './secret-path-error.js';

declare const secretPathBrand: unique symbol;

/**
 * A string that passed {@link parseSecretPath} (or {@link isValidSecretPath}): the one check
 * of a path, made where it enters (an HTTP route, the broker). Policy and the stores take this
 * type and trust it, so a path is never checked twice and never reaches them unchecked.
 */
export type SecretPath = string & { readonly [secretPathBrand]: true };

/** The longest secret path accepted, in bytes (docs/policy.md, "Secret paths and path patterns"). */
export const MAX_SECRET_PATH_BYTES = 512;

/** Bytes a path segment may contain: ASCII letters, digits, `.`, `_`, `-`. */
function isSegmentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x2d // -
  );
}

/**
 * Why `path` is not a secret path, or `undefined` when it is one.
 *
 * Nothing is decoded or normalised: `%2e%2e` is refused for its `%`, a fullwidth solidus or a
 * Cyrillic letter for not being ASCII, so no later decoding step can turn an accepted path
 * into a traversal.
 */
export function secretPathReason(path: string): string | undefined {
  if (typeof path !== 'string') return 'path must be a string';
  if (path.length === 0) return 'path is empty';
  // Every accepted character is ASCII, so UTF-16 length equals byte length; anything longer
  // fails either here or at its first non-ASCII character below.
  if (path.length > MAX_SECRET_PATH_BYTES) {
    return `path is longer than ${MAX_SECRET_PATH_BYTES} bytes`;
  }
  if (path.charCodeAt(0) === 0x2f) return 'path must not start with "/"';
  let segmentStart = 0;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f;
    if (c !== 0x2f) {
      if (!isSegmentChar(c)) {
        return `character at offset ${i} is not allowed (segments use A-Z a-z 0-9 . _ -)`;
      }
      continue;
    }
    const length = i - segmentStart;
    if (length === 0) {
      return i === path.length ? 'path must not end with "/"' : 'path has an empty segment';
    }
    if (
      (length === 1 && path.charCodeAt(segmentStart) === 0x2e) ||
      (length === 2 && path.startsWith('..', segmentStart))
    ) {
      return 'path has a "." or ".." segment';
    }
    segmentStart = i + 1;
  }
  return undefined;
}

/** True (and `path` is a {@link SecretPath}) when `path` is a valid secret path. */
export function isValidSecretPath(path: string): path is SecretPath {
  return secretPathReason(path) === undefined;
}

/**
 * Checks a secret path (docs/policy.md: `[A-Za-z0-9._-]` segments joined by `/`, no empty or
 * dot segments, at most 512 bytes) and returns it, unchanged, as a {@link SecretPath}.
 *
 * @throws SecretPathError `ERR_SECRET_BAD_PATH` naming the path; `detail` says why (for logs
 *   and audit).
 */
export function parseSecretPath(path: string): SecretPath {
  const reason = secretPathReason(path);
  if (reason !== undefined) {
    throw new SecretPathError('ERR_SECRET_BAD_PATH', path, { detail: reason });
  }
  return path as SecretPath;
}
