// Token buckets per source address: the pre-authentication limit on what a stranger can cost.
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock/index.js';

/**
 * Bits of an IPv6 address that name one caller: a /64 is the smallest prefix a site is given
 * (RFC 6177) and one host picks any of its 2^64 addresses freely (RFC 4941, RFC 8981), so
 * charging each address apart would give one attacker 2^64 full buckets.
 */
export const IPV6_CALLER_PREFIX = 64;

/**
 * The key a caller is charged under: an IPv4 address as it is (an IPv4-mapped IPv6 address
 * as its IPv4 address), an IPv6 address as its /64 (`2001:db8:1:2::/64`), anything that is
 * not an address as given.
 */
export function callerKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${IPV6_CALLER_PREFIX}`);
  return `${network.toString()}/${IPV6_CALLER_PREFIX}`;
}

/** Rate and burst of the per-address buckets (`HALLMARK_PREAUTH_RATE` / `_BURST`). */
export interface AddressBucketLimits {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size: what an address may spend at once. */
  readonly burst: number;
  /** Addresses remembered; the least recently seen is forgotten first. Default 65,536. */
  readonly maxAddresses?: number;
}

/** The answer of {@link AddressBuckets.take}. */
export type TakeResult =
  { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per address, in memory, per replica. A request takes a token before any work;
 * a request that ends well gives it back ({@link refund}), so the bucket counts the failures
 * and the requests still in flight of one address, never the successes of a healthy client.
 * Forgetting an address (LRU bound) only ever gives it a full bucket, never an empty one.
 */
export class AddressBuckets {
  readonly #buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly limits: AddressBucketLimits,
    private readonly clock: Clock,
  ) {
    if (!(limits.ratePerSecond > 0) || !(limits.burst >= 1)) {
      throw new RangeError('rate must be positive and burst at least 1');
    }
    this.#buckets = new LRUCache({ max: limits.maxAddresses ?? 65_536 });
  }

  /** Takes one token for `address`, or says how many whole seconds until one is there. */
  take(address: string): TakeResult {
    const bucket = this.#refilled(address);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const seconds = (1 - bucket.tokens) / this.limits.ratePerSecond;
    // Retry-After is whole seconds (RFC 9110 §10.2.3); round up so a retry finds the token.
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(seconds)) };
  }

  /** Gives back a token taken by a request that succeeded. */
  refund(address: string): void {
    const bucket = this.#refilled(address);
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + 1);
  }

  /** Tokens `address` has now (for tests and metrics). */
  tokens(address: string): number {
    return this.#refilled(address).tokens;
  }

  #refilled(address: string): Bucket {
    const now = this.clock.now();
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      bucket = { tokens: this.limits.burst, at: now };
      this.#buckets.set(address, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(
      this.limits.burst,
      bucket.tokens + (elapsed * this.limits.ratePerSecond) / 1000,
    );
    bucket.at = now;
    return bucket;
  }
}
