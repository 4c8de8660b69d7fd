// JWT-SVID validation: pure over a bundle's JWKs and a clock, with go-spiffe's rejection reasons.
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from '../spiffe/index.js';
import { checkExpectedAudience } from './jwt-svid-audience.js';
import { readJwtSvidClaims } from './jwt-svid-claims.js';
import {
  isJwtSvidAlgorithm,
  keyFitsAlgorithm,
  type JwtSvidAlgorithm,
} from './jwt-svid-algorithm.js';
import { jwtSvidRejection as reject } from './jwt-svid-rejection.js';

/** One JWK of a SPIFFE bundle as the validator reads it (a `BundleJwk` or a jose `JWK`). */
export interface JwtBundleKey {
  readonly kty?: string;
  readonly use?: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

/** What a JWT-SVID is validated against. */
export interface JwtSvidValidationContext {
  /** The keys of the trust domain's SPIFFE bundle; only `use: jwt-svid` entries are used. */
  readonly bundleJwks: readonly JwtBundleKey[];
  /** The audience(s) this validator identifies with; the token must name every one. */
  readonly audience: string | readonly string[];
  /** The trust domain the bundle belongs to (bare name or `spiffe://` form). */
  readonly trustDomain: string;
  readonly clock: Clock;
  /** Skew tolerated on `exp`, `nbf` and `iat` (default 5 s). */
  readonly leewayMs?: number;
}

/** A JWT-SVID that passed validation. */
export interface ValidatedJwtSvid {
  /** `sub`, parsed. */
  readonly spiffeId: SpiffeId;
  /** `aud`, always as a list. */
  readonly audience: readonly string[];
  /** `exp`, epoch milliseconds. */
  readonly expiresAt: number;
  readonly kid: string;
  readonly alg: JwtSvidAlgorithm;
  /** Every claim of the verified payload. */
  readonly claims: Readonly<JWTPayload>;
}

/** Skew tolerated unless the caller says otherwise (the access tokens' tolerance). */
export const DEFAULT_JWT_SVID_LEEWAY_MS = 5_000;

/** Far above any JWT-SVID (16 audiences of 256 characters, an RSA-4096 signature). */
const MAX_TOKEN_LENGTH = 16_384;
/** JWS Compact Serialization: three base64url parts; the signature may be empty (`alg: none`). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function expectedAudience(audience: string | readonly string[]): readonly string[] {
  const list = typeof audience === 'string' ? [audience] : audience;
  // A validator that expects nothing would accept a token minted for anyone (JWT-SVID App. A).
  if (list.length === 0 || list.some((value) => typeof value !== 'string' || value === '')) {
    throw new HallmarkError('ERR_JWTSVID_AUDIENCE_INVALID', {
      message: 'validation needs at least one non-empty expected audience',
    });
  }
  return list;
}

function readHeader(token: string): ProtectedHeaderParameters {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) throw reject.malformed();
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw reject.malformed();
  }
}

/** The public members only, whatever else the bundle entry carries. */
function publicMembers(key: JwtBundleKey): JWK {
  return key.kty === 'EC'
    ? { kty: 'EC', crv: key.crv, x: key.x, y: key.y }
    : { kty: 'RSA', n: key.n, e: key.e };
}

/**
 * Validates a JWT-SVID the way go-spiffe's `jwtsvid.ParseAndValidate` does, against the
 * `jwt-svid` keys of one trust domain's bundle at the clock's time:
 * compact JWS (§5.1) → `typ` JWT/JOSE if present (§2.3) → `alg` on the allowlist (§2.1) →
 * `sub` and `exp` present (§3.1, §3.3) → `sub` a SPIFFE ID of this trust domain → `kid` names
 * a `jwt-svid` key of the bundle (§6.2) → signature (RFC 7515 §5.2) → `aud` contains every
 * expected audience (§3.2, RFC 7519 §4.1.3) → `nbf`, `exp` (RFC 7519 §4.1.4) and `iat` within
 * the leeway. No I/O: the sidecar's `ValidateJWTSVID` reuses it as is.
 *
 * @throws HallmarkError with one `ERR_JWTSVID_*` code per reason (message: go-spiffe's wording);
 *   ERR_JWTSVID_AUDIENCE_INVALID when no audience is expected; ERR_SPIFFE_TRUST_DOMAIN_INVALID
 *   for a bad `trustDomain`.
 */
export async function validateJwtSvid(
  token: string,
  context: JwtSvidValidationContext,
): Promise<ValidatedJwtSvid> {
  const expected = expectedAudience(context.audience);
  const trustDomain = parseTrustDomain(context.trustDomain);
  const leeway = context.leewayMs ?? DEFAULT_JWT_SVID_LEEWAY_MS;

  const header = readHeader(token);
  // go-jose (under go-spiffe) parses no critical extensions; neither do we. @see RFC 7515 §4.1.11
  if (header.crit !== undefined || header.b64 !== undefined) throw reject.malformed();
  if (header.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toUpperCase() : undefined;
    if (typ !== 'JWT' && typ !== 'JOSE') throw reject.headerType(header.typ); // §2.3
  }
  const alg = header.alg;
  if (!isJwtSvidAlgorithm(alg)) throw reject.algorithm(alg); // §2.1: none, HS*, EdDSA refused

  // Unverified claims choose the trust domain (and so the bundle), as go-spiffe does; every
  // decision after the signature uses the verified payload.
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(token);
  } catch (err) {
    throw reject.claimsUnreadable((err as Error).message);
  }
  // An empty `sub` is as missing as an absent one (go-spiffe tests for the empty string).
  if (unverified.sub === undefined || unverified.sub === '') throw reject.subjectMissing();
  if (unverified.exp === undefined) throw reject.expiryMissing();
  if (typeof unverified.sub !== 'string') throw reject.subjectInvalid('sub must be a string');
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSpiffeId(unverified.sub);
  } catch (err) {
    if (!isHallmarkError(err)) throw err;
    throw reject.subjectInvalid(err.message);
  }
  if (spiffeId.trustDomain !== trustDomain) throw reject.foreignTrustDomain(spiffeId.trustDomain);

  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') throw reject.kidMissing();
  // @see SPIFFE JWT-SVID §6.2: only the bundle's `jwt-svid` entries are JWT authorities.
  const authority = context.bundleJwks.find((key) => key.use === 'jwt-svid' && key.kid === kid);
  if (authority === undefined) throw reject.unknownAuthority(kid, trustDomain);
  if (!keyFitsAlgorithm(authority, alg) || (authority.alg !== undefined && authority.alg !== alg)) {
    throw reject.signature(`the key for this kid does not fit ${alg}`);
  }

  let payload: Uint8Array;
  try {
    const key = await importJWK(publicMembers(authority), alg);
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (err) {
    throw reject.signature((err as Error).message);
  }

  const claims = readJwtSvidClaims(payload);
  checkExpectedAudience(claims.audience, expected);
  const now = context.clock.now();
  if (claims.notBefore !== undefined && now + leeway < claims.notBefore * 1000) {
    throw reject.notYetValid();
  }
  // @see RFC 7519 §4.1.4: the current time MUST be before `exp`.
  if (now - leeway >= claims.expiresAt * 1000) throw reject.expired();
  if (claims.issuedAt !== undefined && now + leeway < claims.issuedAt * 1000) {
    throw reject.issuedInFuture();
  }
  return {
    spiffeId,
    audience: claims.audience,
    expiresAt: claims.expiresAt * 1000,
    kid,
    alg,
    claims: Object.freeze({ ...claims.payload }),
  };
}
