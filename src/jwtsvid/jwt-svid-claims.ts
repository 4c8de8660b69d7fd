// The registered claims of a JWT-SVID payload, read with their types checked.
import type { JWTPayload } from 'jose';
import { jwtSvidRejection as reject } from './jwt-svid-rejection.js';

/** The claims validation decides on; `payload` keeps every claim for the caller. */
export interface JwtSvidClaims {
  readonly payload: JWTPayload;
  /** `aud` as a list (RFC 7519 §4.1.3 allows a single string); empty when absent. */
  readonly audience: readonly string[];
  /** `exp`, `nbf` and `iat` as NumericDates (seconds, RFC 7519 §2). */
  readonly expiresAt: number;
  readonly notBefore: number | undefined;
  readonly issuedAt: number | undefined;
}

function numericDate(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw reject.claimsUnreadable(`"${claim}" claim must be a number`);
  }
  return value;
}

function audienceOf(payload: JWTPayload): string[] {
  const aud = payload.aud;
  if (aud === undefined) return [];
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((value) => typeof value === 'string')) return [...aud];
  throw reject.claimsUnreadable('"aud" claim must be a string or an array of strings');
}

/**
 * Parses a (verified) JWT-SVID payload and checks the types of `aud`, `exp`, `nbf`, `iat`.
 * @throws HallmarkError ERR_JWTSVID_MALFORMED, ERR_JWTSVID_EXPIRY_MISSING
 */
export function readJwtSvidClaims(payloadBytes: Uint8Array): JwtSvidClaims {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    throw reject.claimsUnreadable('payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw reject.claimsUnreadable('payload is not a JSON object');
  }
  const claims = payload as JWTPayload;
  const expiresAt = numericDate(claims, 'exp');
  if (expiresAt === undefined) throw reject.expiryMissing(); // §3.3
  return {
    payload: claims,
    audience: audienceOf(claims),
    expiresAt,
    notBefore: numericDate(claims, 'nbf'),
    issuedAt: numericDate(claims, 'iat'),
  };
}
