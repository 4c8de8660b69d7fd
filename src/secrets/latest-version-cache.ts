// The newest sealed version of each recently read path, in memory: what lets a batch read skip
// PostgreSQL and half its AES work. Pure bookkeeping; the store decides when it may be used.
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * One cached version, still sealed: the value is decrypted on every read, so no plaintext is
 * kept. `dataKey` is the unwrapped data key (a KeyObject, outside the JS heap); the master
 * key, which unwraps every data key, is in this process's memory anyway.
 */
export interface CachedVersion {
  readonly path: string;
  readonly version: number;
  readonly dataKey: KeyObject;
  readonly ciphertext: Buffer;
  readonly createdAt: Date;
  readonly createdBy: string;
}

/** How big and how old the cache may get. */
export interface LatestVersionCacheLimits {
  /** Upper bound of ciphertext plus bookkeeping bytes held; 0 disables the cache. */
  maxBytes: number;
  /**
   * An entry older than this is read again from PostgreSQL: the bound on staleness should a
   * change notification be lost without the listener noticing.
   */
  ttlMs: number;
}

/** Path, timestamps, key handle and map entry: a rough constant cost per entry. */
const ENTRY_OVERHEAD_BYTES = 256;

interface Entry {
  readonly version: CachedVersion;
  readonly bytes: number;
  readonly expiresAt: number;
}

/**
 * Path → newest version, least recently used evicted first past the byte bound (lru-cache's
 * `maxSize`, each entry sized by its ciphertext and bookkeeping). Every invalidation bumps
 * {@link generation}: a reader captures it before its query and {@link fill} drops the result
 * if anything was invalidated meanwhile, so a read that raced a write can never put the
 * superseded version back. The TTL is checked against the `now` the caller passes rather than
 * lru-cache's own clock: the store judges every path of one batch read at the same instant.
 */
export class LatestVersionCache {
  readonly #limits: LatestVersionCacheLimits;
  readonly #entries: LRUCache<string, Entry>;
  #generation = 0;

  constructor(limits: LatestVersionCacheLimits) {
    this.#limits = limits;
    // lru-cache needs a positive bound; at 0 bytes `fill` refuses every entry before it.
    this.#entries = new LRUCache<string, Entry>({
      maxSize: Math.max(1, limits.maxBytes),
      sizeCalculation: (entry) => entry.bytes,
    });
  }

  /** Changes whenever anything is invalidated; see {@link fill}. */
  get generation(): number {
    return this.#generation;
  }

  /** Entries held (tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes accounted (tests and metrics). */
  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  /** The cached newest version of `path`, unless absent or older than the TTL at `now`. */
  get(path: string, now: number): CachedVersion | undefined {
    const entry = this.#entries.get(path);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(path);
      return undefined;
    }
    return entry.version;
  }

  /**
   * Caches `version` as the newest of its path, read when {@link generation} was
   * `readGeneration`; ignored if an invalidation happened since, or if it alone exceeds the
   * byte bound.
   */
  fill(readGeneration: number, version: CachedVersion, now: number): void {
    if (readGeneration !== this.#generation) return;
    const bytes = version.ciphertext.length + version.path.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#limits.maxBytes) return;
    // Delete first, so the path becomes the most recently used and the old size is released.
    this.#entries.delete(version.path);
    this.#entries.set(version.path, { version, bytes, expiresAt: now + this.#limits.ttlMs });
  }

  /** Forgets `path` (it was written or deleted). */
  invalidate(path: string): void {
    this.#generation += 1;
    this.#entries.delete(path);
  }

  /** Forgets every path starting with `prefix` (a scope was deleted). */
  invalidatePrefix(prefix: string): void {
    this.#generation += 1;
    for (const path of [...this.#entries.keys()]) {
      if (path.startsWith(prefix)) this.#entries.delete(path);
    }
  }

  /** Forgets everything (change notifications may have been missed). */
  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}
