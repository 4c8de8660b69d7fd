// Client SVIDs that already validated against a given bundle: a repeat login skips path validation.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedX509Svid } from '../x509/index.js';

/**
 * A sidecar logs in with the same SVID every few minutes until it renews it, and X509-SVID
 * path validation (an ECDSA verification per link) is a large share of a login. The result is
 * a pure function of the presented chain, the bundle and the time, so it is remembered per
 * (chain, bundle) pair — a bundle change is a different key — and reused only while the leaf
 * is within its validity period; the least recently used goes first past `maxEntries`.
 * Failures are never cached. (Validation is synchronous, so there are no concurrent
 * validations of one key to share.)
 */
export class SvidValidationCache {
  readonly #entries: LRUCache<string, VerifiedX509Svid>;

  constructor(maxEntries = 10_000) {
    this.#entries = new LRUCache({ max: maxEntries });
  }

  /** The cache key of a chain checked against a bundle. */
  static keyOf(chainPem: readonly string[], bundlePem: readonly string[]): string {
    const hash = createHash('sha256');
    for (const pem of chainPem) hash.update(pem).update('\0');
    hash.update('\0bundle\0');
    for (const pem of bundlePem) hash.update(pem).update('\0');
    return hash.digest('base64url');
  }

  /** A previous result for `key` if the leaf is still valid at `now`. */
  get(key: string, now: number): VerifiedX509Svid | undefined {
    const svid = this.#entries.get(key);
    if (svid === undefined) return undefined;
    // @see RFC 5280 §4.1.2.5: the validity period includes both notBefore and notAfter.
    if (now > svid.notAfter.getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return now < svid.notBefore.getTime() ? undefined : svid;
  }

  /** Remembers a successful validation. */
  set(key: string, svid: VerifiedX509Svid): void {
    this.#entries.set(key, svid);
  }
}
