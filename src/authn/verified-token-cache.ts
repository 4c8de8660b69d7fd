// Tokens whose signature and claims already verified: a repeat skips the ECDSA check, nothing else.
import type { VerifiedClaims } from './access-token-claims.js';

interface Entry {
  readonly claims: VerifiedClaims;
  /** `nbf`, seconds. */
  readonly notBefore: number;
  /** The key that signed it: a hit still needs that key to be trusted (not distrusted). */
  readonly kid: string;
}

/** A remembered token: its claims and the kid of the key that signed it. */
export interface VerifiedToken {
  readonly claims: VerifiedClaims;
  readonly kid: string;
}

/**
 * Applications send the same access token on every request for its whole life, and ECDSA
 * verification is the dominant cost of a request; so a token string that fully verified is
 * remembered until it expires. Only the signature and the static claim checks are skipped on
 * a hit: expiry and not-before are re-checked against the clock exactly as jose does, and the
 * caller still asks whether the signing key is trusted (not distrusted since) and runs the
 * revocation and pod checks on every request.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly toleranceSeconds: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** A token that verified before and is still within its validity at `now`. */
  get(token: string, now: number): VerifiedToken | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    // The same comparisons as jose's JWT claim checks, in whole seconds (RFC 7519 §4.1.4, §4.1.5).
    const nowSeconds = Math.floor(now / 1000);
    if (entry.claims.identity.expiresAt / 1000 <= nowSeconds - this.toleranceSeconds) {
      this.#entries.delete(token);
      return undefined;
    }
    if (entry.notBefore > nowSeconds + this.toleranceSeconds) return undefined;
    return entry;
  }

  /** Remembers a token that just passed full verification. */
  set(token: string, claims: VerifiedClaims, notBefore: number, kid: string): void {
    if (this.#entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { claims, notBefore, kid });
  }
}
