// The secret path of a request, cut from the raw request line: never decoded, never normalised.
import { HallmarkError } from '../../errors/index.js';

/** Where secret paths start in the URL (docs/http-api.md: `GET /v1/secrets/<path>`). */
export const SECRET_URL_PREFIX = '/v1/secrets/';

/**
 * The path exactly as the client wrote it in the request target. The router decodes `%2F` to
 * `/` and `%2e` to `.` in its wildcard parameter, which would let `a%2F..%2Fb` pass as a
 * different path than the one written; reading the raw target instead means any `%` is
 * refused by the path rules, so there is one spelling of every secret path. Valid paths use
 * only URL-unreserved characters (RFC 3986 §2.3), so clients never need to encode them.
 *
 * @throws HallmarkError `ERR_SECRET_BAD_PATH` when the raw target does not start with the
 * literal prefix (e.g. `/v1/%73ecrets/x`, which the router decodes into a match).
 */
export function rawSecretPath(rawUrl: string): string {
  const end = rawUrl.search(/[?#]/);
  const target = end === -1 ? rawUrl : rawUrl.slice(0, end);
  if (!target.startsWith(SECRET_URL_PREFIX)) {
    throw new HallmarkError('ERR_SECRET_BAD_PATH', {
      detail: 'request target does not start with the literal /v1/secrets/ prefix',
    });
  }
  return target.slice(SECRET_URL_PREFIX.length);
}
