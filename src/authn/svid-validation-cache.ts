// Client SVIDs that already validated against a given bundle: a repeat login skips path validation.
import { createHash } from 'node:crypto';
import type { VerifiedX509Svid } from '../x509/index.js';

/**
 * A sidecar logs in with the same SVID every few minutes until it renews it, and X509-SVID
 * path validation (an ECDSA verification per link) is a large share of a login. The result is
 * a pure function of the presented chain, the bundle and the time, so it is remembered per
 * (chain, bundle) pair — a bundle change is a different key — and reused only while the leaf
 * is within its validity period. Failures are never cached.
 */
export class SvidValidationCache {
  readonly #entries = new Map<string, VerifiedX509Svid>();

  constructor(private readonly maxEntries = 10_000) {}

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
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, svid);
  }
}
