// Issuing access tokens: ES256 JWTs signed with the keyring's active key, in process or in a token.
import type { Clock } from '../clock/index.js';
import { HsmUnavailableError } from '../hsm/index.js';
import { HallmarkError } from '../errors/index.js';
import { signCompactJws } from '../keyring/index.js';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_TYP,
  privateClaims,
  type AccessTokenSubject,
} from './access-token-claims.js';
import { ACCESS_TOKEN_ALG } from './signing-key.js';
import type { ActiveSigningKey } from './signing-keyring.js';
import { newTokenId } from './token-id.js';

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
 * claims when the workload's pod is known. The JWS is assembled by `signCompactJws` through the
 * key's signer, its header and claims in the order jose's SignJWT writes them (the private
 * claims, then `iss sub aud iat nbf exp jti`), so its bytes are those jose would produce.
 */
export class AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeySource,
    private readonly clock: Clock,
    private readonly settings: AccessTokenSettings,
  ) {}

  /**
   * Signs a token for `subject`, expiring after the TTL or at `subject.notAfter`, if sooner.
   * @throws HallmarkError ERR_AUTHN_SIGNING_UNAVAILABLE when the key's PKCS#11 token cannot sign.
   */
  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    const { kid, signer } = this.keys.signingKey();
    const now = this.clock.now();
    // JWT NumericDates are whole seconds (RFC 7519 §2); iat rounds down, so a revocation in the
    // same second as issuance refuses the token rather than missing it.
    const iat = Math.floor(now / 1000);
    const exp = Math.floor(
      Math.min(now + this.settings.ttlMs, subject.notAfter ?? Infinity) / 1000,
    );
    const tokenId = newTokenId();
    const claims = {
      ...privateClaims(subject),
      iss: this.settings.issuer,
      sub: subject.identity,
      aud: ACCESS_TOKEN_AUDIENCE,
      iat,
      nbf: iat,
      exp,
      jti: tokenId,
    };
    let token: string;
    try {
      token = await signCompactJws(
        signer,
        { alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYP },
        JSON.stringify(claims),
      );
    } catch (err) {
      if (!(err instanceof HsmUnavailableError)) throw err;
      throw new HallmarkError('ERR_AUTHN_SIGNING_UNAVAILABLE', { detail: err.detail, cause: err });
    }
    return { token, expiresAt: exp * 1000, tokenId };
  }
}
