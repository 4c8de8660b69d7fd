// Sealing one secret version: envelope encryption bound to the version's path and number.
import { openEnvelope, sealEnvelope, type Envelope, type MasterKey } from '../crypto/index.js';
import { HallmarkError, isHallmarkError } from '../errors/index.js';
import { decodeSecretValue } from './secret-value.js';

/**
 * The associated data of a version: `secret|<path>|<version>`. Paths contain no `|` (they are
 * `[A-Za-z0-9._-/]` only), so the encoding is unambiguous, and a ciphertext or wrapped key
 * moved to another row (another path or version) fails authentication.
 */
export function secretAad(path: string, version: number): string {
  return `secret|${path}|${version}`;
}

/** Seals `plaintext` (UTF-8 bytes of the value) as `version` of `path` under a fresh data key. */
export function sealSecretVersion(
  master: MasterKey,
  path: string,
  version: number,
  plaintext: Buffer,
): Envelope {
  return sealEnvelope(master, plaintext, secretAad(path, version));
}

/**
 * Opens a stored version. Any mismatch — altered bytes, a row's key or ciphertext swapped with
 * another row's, a different master key — fails closed with `ERR_SECRET_INTEGRITY`, never a
 * wrong value.
 */
export function openSecretVersion(
  master: MasterKey,
  path: string,
  version: number,
  envelope: Envelope,
): string {
  let plaintext: Buffer;
  try {
    plaintext = openEnvelope(master, envelope, secretAad(path, version));
  } catch (cause) {
    if (!isHallmarkError(cause, 'ERR_CRYPTO_OPEN_FAILED')) throw cause;
    throw new HallmarkError('ERR_SECRET_INTEGRITY', {
      cause,
      detail: `version ${version} of ${path} failed authentication`,
    });
  }
  try {
    return decodeSecretValue(plaintext);
  } catch (cause) {
    throw new HallmarkError('ERR_SECRET_INTEGRITY', {
      cause,
      detail: `version ${version} of ${path} is not UTF-8`,
    });
  } finally {
    plaintext.fill(0);
  }
}
