// Tokens whose signature and claims already verified: a repeat skips the ECDSA check, nothing else.
import { LRUCache } from 'lru-cache';
import type { VerifiedClaims } from './access-token-claims.js';

/** A remembered token: its claims, its `nbf` and the kid of the key that signed it. */
export interface VerifiedToken {
  readonly claims: VerifiedClaims;
  /** `nbf`, seconds. */
  readonly notBefore: number;
  /** The key that signed it: a hit still needs that key to be trusted (not distrusted). */
  readonly kid: string;
}

/** Full verification of a token string: signature, header and claims. */
export type TokenVerification = (token: string) => Promise<VerifiedToken>;

/**
 * Applications send the same access token on every request for its whole life, and ECDSA
 * verification is the dominant cost of a request; so a token string that fully verified is
 * remembered until it expires (the least recently used goes first past `maxEntries`). Only the
 * signature and the static claim checks are skipped on a hit: expiry and not-before are
 * re-checked against the clock exactly as jose does, and the caller still asks whether the
 * signing key is trusted (not distrusted since) and runs the revocation and pod checks on
 * every request. Concurrent verifications of one token string share one; failures are never
 * remembered.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, VerifiedToken>;

  constructor(
    verification: TokenVerification,
    private readonly toleranceSeconds: number,
    maxEntries = 10_000,
  ) {
    this.#entries = new LRUCache<string, VerifiedToken>({
      max: maxEntries,
      fetchMethod: (token) => verification(token),
      // An entry evicted while its verification runs still answers the callers waiting on it.
      ignoreFetchAbort: true,
    });
  }

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

  /**
   * Verifies `token` in full and remembers it once it passed; callers asking for the same
   * token while a verification runs wait for that one instead of starting their own.
   * @throws whatever the verification throws (nothing is remembered then).
   */
  async verify(token: string): Promise<VerifiedToken> {
    const verified = await this.#entries.fetch(token, { forceRefresh: true });
    // The verification never resolves empty; lru-cache's type allows it for fetch methods that do.
    if (verified === undefined) throw new Error('token verification returned nothing');
    return verified;
  }
}
