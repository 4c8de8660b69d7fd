// Client SVIDs that already validated against a given bundle: a repeat login skips path validation.
import { createHash, type X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifiedX509Svid } from '../x509/index.js';

/**
 * What one TLS handshake's client certificate check found. A kept-alive connection presents
 * the same certificates on every request until it renegotiates, so they are read and parsed
 * once; the checks that depend on time and trust (distrust, bundle, validity) still run on
 * every request against what is kept here.
 */
export interface HandshakeSvid {
  /** The handshake's TLS Finished message: a renegotiation sends a new one. */
  readonly finished: Buffer;
  /** The presented certificates as the socket linked them, leaf first, root included. */
  readonly certificates: readonly X509Certificate[];
  /** The bundle `svid` was validated against. */
  readonly bundle: readonly string[];
  readonly svid: VerifiedX509Svid;
}

/**
 * A sidecar logs in with the same SVID every few minutes until it renews it, and X509-SVID
 * path validation (an ECDSA verification per link) is a large share of a login. The result is
 * a pure function of the presented chain, the bundle and the time, so it is remembered per
 * (chain, bundle) pair — a bundle change is a different key — and reused only while the leaf
 * is within its validity period; the least recently used goes first past `maxEntries`.
 * Failures are never cached. (Validation is synchronous, so there are no concurrent
 * validations of one key to share.)
 *
 * Beside it, per connection ({@link ofHandshake}): the parsed certificates and result of the
 * connection's handshake, so a kept-alive connection neither re-reads its chain from OpenSSL
 * nor hashes it with the bundle on every request. Forgotten with the connection.
 */
export class SvidValidationCache {
  readonly #entries: LRUCache<string, VerifiedX509Svid>;
  readonly #handshakes = new WeakMap<object, HandshakeSvid>();

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

  /**
   * Is `now` within the SVID's validity period?
   * @see RFC 5280 §4.1.2.5: the validity period includes both notBefore and notAfter.
   */
  static isCurrent(svid: VerifiedX509Svid, now: number): boolean {
    // The whole path, not only the leaf: an intermediate may expire first.
    return now >= svid.pathNotBefore.getTime() && now <= svid.pathNotAfter.getTime();
  }

  /** A previous result for `key` if its whole path is still valid at `now`. */
  get(key: string, now: number): VerifiedX509Svid | undefined {
    const svid = this.#entries.get(key);
    if (svid === undefined) return undefined;
    if (now > svid.pathNotAfter.getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return SvidValidationCache.isCurrent(svid, now) ? svid : undefined;
  }

  /** Remembers a successful validation. */
  set(key: string, svid: VerifiedX509Svid): void {
    this.#entries.set(key, svid);
  }

  /**
   * What the check of `connection`'s handshake found, if that handshake is still the one whose
   * Finished message is `finished`: after a renegotiation there is nothing.
   */
  ofHandshake(connection: object, finished: Buffer): HandshakeSvid | undefined {
    const seen = this.#handshakes.get(connection);
    return seen !== undefined && seen.finished.equals(finished) ? seen : undefined;
  }

  /** Remembers a successful check of `connection`'s current handshake. */
  rememberHandshake(connection: object, seen: HandshakeSvid): void {
    this.#handshakes.set(connection, seen);
  }
}
