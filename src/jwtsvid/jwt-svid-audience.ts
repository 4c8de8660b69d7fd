// JWT-SVID audiences: what a caller may request, and the check a validator makes.
import { HallmarkError } from '../errors/index.js';
import { jwtSvidRejection as reject } from './jwt-svid-rejection.js';

/** Most audiences one JWT-SVID may name (the spec recommends one; §7.2). */
export const MAX_JWT_SVID_AUDIENCES = 16;
/** Longest audience value, in characters (Unicode code points). */
export const MAX_JWT_SVID_AUDIENCE_LENGTH = 256;

/** A lone UTF-16 surrogate cannot be encoded as UTF-8, so it would not survive signing. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Checks the audiences a caller asks for: at least one (§3.2), at most
 * {@link MAX_JWT_SVID_AUDIENCES}, each a non-empty well-formed string of at most
 * {@link MAX_JWT_SVID_AUDIENCE_LENGTH} characters. Returns a copy in the requested order.
 * @throws HallmarkError ERR_JWTSVID_AUDIENCE_INVALID
 */
export function requestedAudience(audience: readonly unknown[]): string[] {
  const invalid = (detail: string): HallmarkError =>
    new HallmarkError('ERR_JWTSVID_AUDIENCE_INVALID', { detail });
  if (audience.length === 0) throw invalid('no audience requested');
  if (audience.length > MAX_JWT_SVID_AUDIENCES) {
    throw invalid(`${audience.length} audiences requested`);
  }
  return audience.map((value, index) => {
    if (typeof value !== 'string' || value === '') throw invalid(`audience ${index} is empty`);
    if ([...value].length > MAX_JWT_SVID_AUDIENCE_LENGTH) {
      throw invalid(`audience ${index} is longer than ${MAX_JWT_SVID_AUDIENCE_LENGTH}`);
    }
    if (LONE_SURROGATE.test(value)) throw invalid(`audience ${index} is not well-formed Unicode`);
    return value;
  });
}

/**
 * The token must name every audience the validator identifies with; a token without `aud` is
 * refused as such. @see SPIFFE JWT-SVID §3.2, RFC 7519 §4.1.3
 * @throws HallmarkError ERR_JWTSVID_AUDIENCE_MISSING, ERR_JWTSVID_AUDIENCE_MISMATCH
 */
export function checkExpectedAudience(
  actual: readonly string[],
  expected: readonly string[],
): void {
  if (actual.length === 0 || expected.some((value) => !actual.includes(value))) {
    throw reject.audience(expected, actual);
  }
}
