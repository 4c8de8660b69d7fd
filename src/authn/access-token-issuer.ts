// Issuing access tokens: ES256 JWTs signed with the keyring's active key.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock/index.js';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_TYP,
  privateClaims,
  type AccessTokenSubject,
} from './access-token-claims.js';
import { ACCESS_TOKEN_ALG } from './signing-key.js';
import type { ActiveSigningKey } from './signing-keyring.js';

/** Where the issuer gets its signing key (the {@link SigningKeyring}). */
export interface SigningKeySource {
  signingKey(): ActiveSigningKey;
}

/** Settings of the issuer. */
export interface AccessTokenSettings {
  /** `iss`: the server's public URL. */
  readonly issuer: string;
  /** Token lifetime (`HALLMARK_TOKEN_TTL`, default 8 minutes). */
  readonly ttlMs: number;
}

/** A signed access token. */
export interface IssuedAccessToken {
  readonly token: string;
  /** `exp`, epoch milliseconds. */
  readonly expiresAt: number;
  /** `jti`. */
  readonly tokenId: string;
}

/**
 * Signs access tokens as docs/http-api.md describes them: header `alg: ES256`, `kid`, `typ: JWT`; claims `iss`,
 * `sub`, `aud: hallmark`, `iat`, `nbf`, `exp`, a 128-bit random `jti`, `role`, and the pod
 * claims when the workload's pod is known.
 */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeySource,
    private readonly clock: Clock,
    private readonly settings: AccessTokenSettings,
  ) {}

  /** Signs a token for `subject`, expiring after the TTL or at `subject.notAfter`, if sooner. */
  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    const { kid, privateKey } = this.keys.signingKey();
    const now = this.clock.now();
    // JWT NumericDates are whole seconds (RFC 7519 §2); iat rounds down, so a revocation in the
    // same second as issuance refuses the token rather than missing it.
    const iat = Math.floor(now / 1000);
    const exp = Math.floor(
      Math.min(now + this.settings.ttlMs, subject.notAfter ?? Infinity) / 1000,
    );
    const tokenId = randomBytes(16).toString('base64url');
    const token = await new SignJWT(privateClaims(subject))
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(this.settings.issuer)
      .setSubject(subject.identity)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(tokenId)
      .sign(privateKey);
    return { token, expiresAt: exp * 1000, tokenId };
  }
}
