// Issuing JWT-SVIDs: build the claims, sign with the active JWT authority, validate before returning.
import type { BundleJwk } from '../ca/index.js';
import type { Clock } from '../clock/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { HsmUnavailableError } from '../hsm/index.js';
import { signCompactJws } from '../keyring/index.js';
import type { SpiffeId } from '../spiffe/index.js';
import type { ActiveJwtAuthority } from './jwt-authority-keyring.js';
import { requestedAudience } from './jwt-svid-audience.js';
import { validateJwtSvid } from './jwt-svid-validator.js';

/** `typ` of every JWT-SVID Hallmark signs. @see SPIFFE JWT-SVID §2.3 */
export const JWT_SVID_TYP = 'JWT';

/** Where the issuer gets its keys (the {@link JwtAuthorityKeyring}). */
export interface JwtAuthoritySource {
  signingAuthority(): ActiveJwtAuthority;
  bundleJwks(): BundleJwk[];
}

/** Settings of the issuer. */
export interface JwtSvidIssuerSettings {
  /** The trust domain every subject must belong to. */
  readonly trustDomain: string;
  /** `HALLMARK_JWT_SVID_TTL` in milliseconds (default 5 minutes). */
  readonly ttlMs: number;
  /**
   * `iss` of every JWT-SVID (`HALLMARK_OIDC_ISSUER`), so OIDC relying parties that discover
   * the keys through it accept the tokens; `undefined`: no `iss` (SPIFFE does not require one).
   */
  readonly issuer?: string;
}

/** Who a JWT-SVID is for and whom it is for. */
export interface JwtSvidRequest {
  /** The caller's SPIFFE ID (from its verified X509-SVID). */
  readonly spiffeId: SpiffeId;
  /** The requested audiences, checked by {@link requestedAudience}. */
  readonly audience: readonly unknown[];
  /** The caller's X509-SVID `notAfter`: a JWT-SVID never outlives the credential it came from. */
  readonly notAfter: Date;
}

/** A signed, self-validated JWT-SVID. */
export interface IssuedJwtSvid {
  readonly token: string;
  readonly spiffeId: string;
  readonly audience: readonly string[];
  /** `exp`, epoch milliseconds. */
  readonly expiresAt: number;
  /** The JWT authority that signed it. */
  readonly kid: string;
}

/** The claims of a JWT-SVID, built without side effects (NumericDates in seconds). */
export function jwtSvidClaims(
  request: { spiffeId: SpiffeId; audience: readonly string[]; notAfter: Date },
  now: number,
  ttlMs: number,
): { sub: string; aud: string[]; iat: number; exp: number } {
  // NumericDates are whole seconds (RFC 7519 §2); both round down, so exp never passes the
  // TTL or the X509-SVID's notAfter.
  return {
    sub: request.spiffeId.toString(), // §3.1
    aud: [...request.audience], // §3.2: always a list, even of one
    iat: Math.floor(now / 1000),
    exp: Math.floor(Math.min(now + ttlMs, request.notAfter.getTime()) / 1000), // §3.3
  };
}

/**
 * Signs JWT-SVIDs: JWS Compact Serialization (§5.1) with exactly the protected headers `alg`,
 * `kid` and `typ: JWT` (§2), claims `aud`, `sub`, `iat`, `exp` — in that order, as jose's
 * SignJWT writes them, signed through the authority's signer (in process, or in the PKCS#11
 * token). Each token is validated with
 * {@link validateJwtSvid} against the published bundle keys before it is returned, the same
 * check a relying party makes (CONVENTIONS: build → sign → validate).
 */
export class JwtSvidIssuer {
  constructor(
    private readonly authorities: JwtAuthoritySource,
    private readonly clock: Clock,
    private readonly settings: JwtSvidIssuerSettings,
  ) {}

  /**
   * Issues a JWT-SVID for `request.spiffeId`.
   * @throws HallmarkError ERR_JWTSVID_AUDIENCE_INVALID, ERR_JWTSVID_AUTHORITY_UNAVAILABLE (none
   *   loaded, or its PKCS#11 token cannot sign now),
   *   ERR_AUTHN_CLIENT_CERT_INVALID (the X509-SVID expires within the second),
   *   ERR_JWTSVID_ISSUED_INVALID (the signed token failed validation; nothing is returned).
   */
  async issue(request: JwtSvidRequest): Promise<IssuedJwtSvid> {
    const audience = requestedAudience(request.audience);
    const { kid, alg, signer } = this.authorities.signingAuthority();
    const now = this.clock.now();
    const claims = jwtSvidClaims({ ...request, audience }, now, this.settings.ttlMs);
    if (claims.exp * 1000 <= now) {
      throw new HallmarkError('ERR_AUTHN_CLIENT_CERT_INVALID', {
        detail: `X509-SVID expires at ${request.notAfter.toISOString()}, too soon for a JWT-SVID`,
      });
    }
    const payload = {
      aud: claims.aud,
      // OpenID Connect Core §2: `iss` is exactly the discovery document's `issuer`.
      ...(this.settings.issuer !== undefined ? { iss: this.settings.issuer } : {}),
      sub: claims.sub,
      iat: claims.iat,
      exp: claims.exp,
    };
    let token: string;
    try {
      token = await signCompactJws(
        signer,
        { alg, kid, typ: JWT_SVID_TYP },
        JSON.stringify(payload),
      );
    } catch (err) {
      if (!(err instanceof HsmUnavailableError)) throw err;
      throw new HallmarkError('ERR_JWTSVID_AUTHORITY_UNAVAILABLE', {
        detail: err.detail,
        cause: err,
      });
    }
    try {
      await validateJwtSvid(token, {
        bundleJwks: this.authorities.bundleJwks(),
        audience,
        trustDomain: this.settings.trustDomain,
        clock: this.clock,
        leewayMs: 0,
      });
    } catch (err) {
      if (!isHallmarkError(err)) throw err;
      throw new HallmarkError('ERR_JWTSVID_ISSUED_INVALID', {
        detail: `issued JWT-SVID refused by validation: ${err.code} ${err.message}`,
        cause: err,
      });
    }
    return { token, spiffeId: claims.sub, audience, expiresAt: claims.exp * 1000, kid };
  }
}
