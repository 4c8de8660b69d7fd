// Verifying access tokens: ES256 only, known kid, iss/aud/exp/nbf, then revocation and pod checks.
import {
  decodeProtectedHeader,
  jwtVerify,
  type CryptoKey,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Clock } from '../clock/index.js';
import { HallmarkError } from '../errors/index.js';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYP, readClaims } from './access-token-claims.js';
import type { CallerIdentity, TokenVerifier } from './caller-identity.js';
import type { PodPresence, PodRef } from './pod-presence.js';
import { ACCESS_TOKEN_ALG } from './signing-key.js';
import { VerifiedTokenCache, type VerifiedToken } from './verified-token-cache.js';

/** Public keys by kid (the {@link SigningKeyring}). */
export interface VerificationKeySource {
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
}

/** Revoked identities (the {@link RevocationList}). */
export interface RevocationCheck {
  isRevoked(identity: string, issuedAtMs: number): boolean;
}

/** Pod verdicts (the {@link PodPresenceCache}). */
export interface PodCheck {
  check(ref: PodRef): Promise<PodPresence>;
}

/** Settings of the verifier. */
export interface AccessTokenVerifierSettings {
  /** Expected `iss`: the server's public URL. */
  readonly issuer: string;
  /** Skew tolerated on `exp` and `nbf` (default 5 s). */
  readonly clockToleranceMs?: number;
}

/** Three base64url segments; anything else is not a compact JWS (RFC 7515 §7.1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Far above any token Hallmark signs; bounds the work an arbitrary header can cause. */
const MAX_TOKEN_LENGTH = 4_096;

function invalid(detail: string, cause?: unknown): HallmarkError {
  return new HallmarkError('ERR_AUTHN_TOKEN_INVALID', { detail, cause });
}

/**
 * Turns a bearer token into the caller it proves. Every failure is `ERR_AUTHN_TOKEN_INVALID`
 * (or `ERR_AUTHN_TOKEN_REVOKED`) with one generic message; the reason is only in `detail`.
 */
export class AccessTokenVerifier implements TokenVerifier {
  readonly #toleranceSeconds: number;
  readonly #verified: VerifiedTokenCache;

  constructor(
    private readonly keys: VerificationKeySource,
    private readonly revocations: RevocationCheck,
    private readonly pods: PodCheck,
    private readonly clock: Clock,
    private readonly settings: AccessTokenVerifierSettings,
  ) {
    this.#toleranceSeconds = (settings.clockToleranceMs ?? 5_000) / 1000;
    this.#verified = new VerifiedTokenCache(
      (token) => this.#verifySignedClaims(token),
      this.#toleranceSeconds,
    );
  }

  /**
   * Verifies `token` and returns its caller.
   * @throws HallmarkError ERR_AUTHN_TOKEN_INVALID, ERR_AUTHN_TOKEN_REVOKED; ERR_ATTEST_* when the
   *   pod re-check cannot reach Kubernetes (fail closed).
   */
  async verify(token: string): Promise<CallerIdentity> {
    // Before the cache: what is not even a compact JWS never becomes a cache key.
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw invalid('not a compact JWS');
    }
    const cached = this.#verified.get(token, this.clock.now());
    // A hit skips the signature, not the key: a key distrusted since fails its tokens at once.
    const claims =
      cached !== undefined && (await this.keys.verificationKey(cached.kid)) !== undefined
        ? cached.claims
        : (await this.#verified.verify(token)).claims;
    const { identity } = claims;
    if (this.revocations.isRevoked(identity.id, claims.issuedAtMs)) {
      throw new HallmarkError('ERR_AUTHN_TOKEN_REVOKED', {
        detail: `identity ${identity.id} revoked`,
      });
    }
    if (claims.pod !== undefined) {
      const presence = await this.pods.check(claims.pod);
      if (!presence.present) {
        throw new HallmarkError('ERR_AUTHN_TOKEN_REVOKED', {
          detail: `pod ${claims.pod.namespace}/${claims.pod.podName} (${claims.pod.podUid}) ${presence.reason}`,
        });
      }
    }
    return identity;
  }

  /** Signature, header and claim checks (the cache remembers the token once it passed them all). */
  async #verifySignedClaims(token: string): Promise<VerifiedToken> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw invalid('unreadable protected header', cause);
    }
    // Only ES256: `none`, HS256 keyed with the public key, RS* and everything else are refused
    // before any key is looked up. @see RFC 8725 §3.1 (algorithm verification)
    if (header.alg !== ACCESS_TOKEN_ALG)
      throw invalid(`algorithm ${String(header.alg)} not accepted`);
    if (typeof header.kid !== 'string' || header.kid === '') throw invalid('kid missing');
    const key = await this.keys.verificationKey(header.kid);
    if (key === undefined) throw invalid('unknown signing key');

    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ACCESS_TOKEN_ALG],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.settings.issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
        currentDate: new Date(this.clock.now()),
        clockTolerance: this.#toleranceSeconds,
        requiredClaims: ['sub', 'jti', 'iat', 'nbf', 'exp'],
      }));
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      throw invalid(
        `rejected by JWT verification (${typeof code === 'string' ? code : 'error'})`,
        cause,
      );
    }

    const claims = readClaims(payload);
    if (!claims.ok) throw invalid(claims.reason);
    return { claims, notBefore: payload.nbf as number, kid: header.kid };
  }
}
