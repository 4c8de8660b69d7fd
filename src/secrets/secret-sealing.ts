// Sealing one secret version: envelope encryption bound to the version's path and number.
import type { KeyObject } from 'node:crypto';
import {
  open,
  sealEnvelope,
  unwrapDataKey,
  type Envelope,
  type MasterKey,
} from '../crypto/index.js';
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

function integrityError(cause: unknown, path: string, version: number): unknown {
  if (!isHallmarkError(cause, 'ERR_CRYPTO_OPEN_FAILED')) return cause;
  return new HallmarkError('ERR_SECRET_INTEGRITY', {
    cause,
    detail: `version ${version} of ${path} failed authentication`,
  });
}

/**
 * Unwraps the data key of a stored version. A wrapped key altered, moved from another row, or
 * sealed under another master key fails closed with `ERR_SECRET_INTEGRITY`.
 */
export function unwrapSecretDataKey(
  master: MasterKey,
  path: string,
  version: number,
  wrappedKey: Buffer,
): KeyObject {
  try {
    return unwrapDataKey(master, wrappedKey, secretAad(path, version));
  } catch (cause) {
    throw integrityError(cause, path, version);
  }
}

/**
 * Opens a version's ciphertext with its unwrapped data key. Altered bytes or a ciphertext moved
 * from another row fail closed with `ERR_SECRET_INTEGRITY`, never a wrong value.
 */
export function openSecretCiphertext(
  dataKey: KeyObject,
  path: string,
  version: number,
  ciphertext: Buffer,
): string {
  let plaintext: Buffer;
  try {
    plaintext = open(dataKey, ciphertext, secretAad(path, version));
  } catch (cause) {
    throw integrityError(cause, path, version);
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
  const dataKey = unwrapSecretDataKey(master, path, version, envelope.wrappedKey);
  return openSecretCiphertext(dataKey, path, version, envelope.ciphertext);
}
