// Why a SPIFFE ID or trust domain was rejected: go-spiffe's exact wording, plus the spec's length limits.
import { HallmarkError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';

/**
 * Rejection reasons. The first nine are go-spiffe's `spiffeid` error strings, verbatim, so
 * operators see the same text from Hallmark as from SPIRE and go-spiffe. go-spiffe does not
 * enforce the length limits; their wording is ours.
 */
export const VALIDATION_REASON = {
  empty: 'cannot be empty',
  wrongScheme: 'scheme is missing or invalid',
  missingTrustDomain: 'trust domain is missing',
  badTrustDomainChar:
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  badPathSegmentChar:
    'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  dotSegment: 'path cannot contain dot segments',
  noLeadingSlash: 'path must have a leading slash',
  emptySegment: 'path cannot contain empty segments',
  trailingSlash: 'path cannot have a trailing slash',
  // @see SPIFFE-ID §2.3: the URI host is at most 255 bytes (RFC 3986), the whole ID 2048 bytes.
  trustDomainTooLong: 'trust domain cannot be longer than 255 bytes',
  idTooLong: 'SPIFFE ID cannot be longer than 2048 bytes',
} as const;

/** One of the {@link VALIDATION_REASON} strings. */
export type ValidationReason = (typeof VALIDATION_REASON)[keyof typeof VALIDATION_REASON];

/** Longest trust domain name, in bytes (SPIFFE-ID §2.3). */
export const MAX_TRUST_DOMAIN_BYTES = 255;
/** Longest SPIFFE ID, in bytes (SPIFFE-ID §2.3). */
export const MAX_SPIFFE_ID_BYTES = 2048;

/** The error for a rejected input: the caller sees the reason, logs also see the input. */
export function rejection(
  code: ErrorCode,
  what: string,
  input: string,
  reason: ValidationReason,
): HallmarkError {
  // Inputs come from callers; cap what reaches the log line.
  const shown = input.length > 256 ? `${input.slice(0, 256)}…` : input;
  return new HallmarkError(code, {
    message: reason,
    detail: `invalid ${what} ${JSON.stringify(shown)}: ${reason}`,
  });
}
