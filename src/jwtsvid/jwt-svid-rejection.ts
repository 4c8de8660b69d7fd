// Why a JWT-SVID was refused: a stable code per reason, and go-spiffe's wording as the message.
import { HallmarkError, type ErrorCode } from '../errors/index.js';

/** Longest caller-supplied value (kid, typ, alg, audience) echoed into a message. */
const MAX_SHOWN = 128;

/** Go's `%q` for a string: a double-quoted literal (JSON's escaping is close enough here). */
function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

/** Go's `%q` for a string slice: `["a" "b"]`. */
function quotedList(values: readonly string[]): string {
  return `[${values.map(quoted).join(' ')}]`;
}

function refuse(code: ErrorCode, message: string): HallmarkError {
  return new HallmarkError(code, { message, detail: `JWT-SVID refused: ${message}` });
}

/**
 * The rejections of JWT-SVID validation. Messages are go-spiffe's `jwtsvid` error strings
 * (without the `jwtsvid: ` prefix), so operators see the same text as from SPIRE; codes are
 * what programs and tests look at.
 */
export const jwtSvidRejection = {
  malformed: (): HallmarkError => refuse('ERR_JWTSVID_MALFORMED', 'unable to parse JWT token'),
  claimsUnreadable: (reason: string): HallmarkError =>
    refuse('ERR_JWTSVID_MALFORMED', `unable to get claims from token: ${reason}`),
  headerType: (typ: unknown): HallmarkError =>
    refuse(
      'ERR_JWTSVID_TYPE_UNSUPPORTED',
      `unsupported header type ${quoted(typ)}, expecting "JWT" or "JOSE"`,
    ),
  algorithm: (alg: unknown): HallmarkError =>
    refuse(
      'ERR_JWTSVID_ALGORITHM_UNSUPPORTED',
      `unsupported token signature algorithm ${quoted(alg)}`,
    ),
  subjectMissing: (): HallmarkError =>
    refuse('ERR_JWTSVID_SUBJECT_MISSING', 'token missing subject claim'),
  expiryMissing: (): HallmarkError =>
    refuse('ERR_JWTSVID_EXPIRY_MISSING', 'token missing exp claim'),
  subjectInvalid: (reason: string): HallmarkError =>
    refuse('ERR_JWTSVID_SUBJECT_INVALID', `token has an invalid subject claim: ${reason}`),
  kidMissing: (): HallmarkError => refuse('ERR_JWTSVID_KID_MISSING', 'token header missing key id'),
  foreignTrustDomain: (trustDomain: string): HallmarkError =>
    refuse(
      'ERR_JWTSVID_TRUST_DOMAIN_MISMATCH',
      `no bundle found for trust domain ${quoted(trustDomain)}`,
    ),
  unknownAuthority: (kid: string, trustDomain: string): HallmarkError =>
    refuse(
      'ERR_JWTSVID_AUTHORITY_UNKNOWN',
      `no JWT authority ${quoted(kid)} found for trust domain ${quoted(trustDomain)}`,
    ),
  signature: (reason: string): HallmarkError =>
    refuse('ERR_JWTSVID_SIGNATURE_INVALID', `unable to get claims from token: ${reason}`),
  expired: (): HallmarkError => refuse('ERR_JWTSVID_EXPIRED', 'token has expired'),
  notYetValid: (): HallmarkError =>
    refuse('ERR_JWTSVID_NOT_YET_VALID', 'validation failed, token not valid yet (nbf)'),
  issuedInFuture: (): HallmarkError =>
    refuse('ERR_JWTSVID_NOT_YET_VALID', 'validation failed, token issued in the future (iat)'),
  audience: (expected: readonly string[], actual: readonly string[]): HallmarkError =>
    refuse(
      actual.length === 0 ? 'ERR_JWTSVID_AUDIENCE_MISSING' : 'ERR_JWTSVID_AUDIENCE_MISMATCH',
      `expected audience in ${quotedList(expected)} (audience=${quotedList(actual.slice(0, 16))})`,
    ),
} as const;
