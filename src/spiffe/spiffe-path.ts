// SPIFFE ID paths: slash-separated segments of a restricted alphabet, no empty or dot segments.
import { isPathSegmentChar } from './charset.js';
import { VALIDATION_REASON, rejection, type ValidationReason } from './validation-reason.js';

/**
 * Why `path` is not a SPIFFE ID path, or `undefined` when it is one. The empty path is valid
 * (it names the trust domain itself). Bytes are checked left to right as go-spiffe does, so
 * the first problem met is the one reported.
 * @see SPIFFE-ID §2.2
 */
export function pathReason(path: string): ValidationReason | undefined {
  if (path === '') return undefined;
  if (path.charCodeAt(0) !== 0x2f) return VALIDATION_REASON.noLeadingSlash;
  // segmentStart is the index of the slash that opened the current segment
  let segmentStart = 0;
  for (let i = 1; i <= path.length; i++) {
    const atEnd = i === path.length;
    const c = atEnd ? 0x2f : path.charCodeAt(i);
    if (c !== 0x2f) {
      if (!isPathSegmentChar(c)) return VALIDATION_REASON.badPathSegmentChar;
      continue;
    }
    const length = i - segmentStart - 1;
    if (length === 0) {
      return atEnd ? VALIDATION_REASON.trailingSlash : VALIDATION_REASON.emptySegment;
    }
    if (isDotSegment(path, segmentStart + 1, length)) return VALIDATION_REASON.dotSegment;
    segmentStart = i;
  }
  return undefined;
}

/** Why `segment` is not one path segment, or `undefined` when it is one. */
export function pathSegmentReason(segment: string): ValidationReason | undefined {
  if (segment === '') return VALIDATION_REASON.emptySegment;
  if (isDotSegment(segment, 0, segment.length)) return VALIDATION_REASON.dotSegment;
  for (let i = 0; i < segment.length; i++) {
    if (!isPathSegmentChar(segment.charCodeAt(i))) return VALIDATION_REASON.badPathSegmentChar;
  }
  return undefined;
}

/**
 * Checks that `path` is a SPIFFE ID path: `""` or `/segment/segment...`.
 * @throws HallmarkError `ERR_SPIFFE_ID_INVALID`; the message is go-spiffe's wording.
 */
export function validatePath(path: string): void {
  const reason = pathReason(path);
  if (reason !== undefined) throw rejection('ERR_SPIFFE_ID_INVALID', 'path', path, reason);
}

/**
 * Checks that `segment` can be one segment of a SPIFFE ID path (so it contains no `/`).
 * @throws HallmarkError `ERR_SPIFFE_ID_INVALID`; the message is go-spiffe's wording.
 */
export function validatePathSegment(segment: string): void {
  const reason = pathSegmentReason(segment);
  if (reason !== undefined) {
    throw rejection('ERR_SPIFFE_ID_INVALID', 'path segment', segment, reason);
  }
}

// "." and ".." are relative references, which a SPIFFE ID path must not contain (§2.2).
function isDotSegment(s: string, start: number, length: number): boolean {
  if (length === 1) return s.charCodeAt(start) === 0x2e;
  return length === 2 && s.charCodeAt(start) === 0x2e && s.charCodeAt(start + 1) === 0x2e;
}
