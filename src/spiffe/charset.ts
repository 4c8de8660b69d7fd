// The SPIFFE character sets: which bytes a trust domain name and a path segment may contain.

/**
 * True for the bytes a trust domain name may contain: lowercase letters, digits, `.`, `-`, `_`.
 * @see SPIFFE-ID §2.1 (trust domain name characters)
 */
export function isTrustDomainChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  );
}

/**
 * True for the bytes a path segment may contain: letters, digits, `.`, `-`, `_`.
 * Percent-encoded forms are never decoded, so `%` itself is rejected.
 * @see SPIFFE-ID §2.2 (path segment characters)
 */
export function isPathSegmentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f // _
  );
}
