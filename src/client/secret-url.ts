// Secret paths in request targets: valid paths verbatim, anything else escaped so the server refuses it.

/**
 * `/v1/secrets/<path>`. Valid secret paths use only URL-unreserved characters and `/`
 * (RFC 3986 §2.3), so they are sent exactly as given. Any other character is percent-encoded
 * byte by byte: it cannot turn into a query (`?`), fragment (`#`) or another path, and the
 * server, which never decodes secret paths, refuses it with `ERR_SECRET_BAD_PATH` naming it.
 */
export function secretTarget(path: string): string {
  let target = '/v1/secrets/';
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte);
    target += /[A-Za-z0-9._\-/]/.test(c)
      ? c
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return target;
}
