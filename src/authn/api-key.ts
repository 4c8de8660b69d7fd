// API keys: 256-bit random secrets shown once; only their SHA-256 is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix that makes a leaked key recognisable to secret scanners. */
export const API_KEY_PREFIX = 'hmk_';

/** A fresh API key (`hmk_` + 43 base64url characters = 256 random bits). */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of the key. A slow password hash buys nothing here: the key has 256 bits of
 * entropy, so the hash cannot be brute-forced, and login stays fast.
 */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Constant-time check of a presented key against a stored hash. */
export function apiKeyMatches(presented: string, storedHash: Buffer): boolean {
  const presentedHash = hashApiKey(presented);
  return storedHash.length === presentedHash.length && timingSafeEqual(presentedHash, storedHash);
}
