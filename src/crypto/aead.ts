// AES-256-GCM sealing with associated data: the one symmetric primitive Hallmark uses.
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { HallmarkError } from '../errors/index.js';

const VERSION = 0x01;
const IV_BYTES = 12; // NIST SP 800-38D §8.2: 96-bit random IVs
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/** Key length for AES-256. */
export const AEAD_KEY_BYTES = 32;

/** A raw 32-byte key, or one held as a secret {@link KeyObject} (outside the JS heap). */
export type AeadKey = Buffer | KeyObject;

function checkKey(key: AeadKey): void {
  const size = Buffer.isBuffer(key)
    ? key.length
    : key.type === 'secret'
      ? key.symmetricKeySize
      : undefined;
  if (size !== AEAD_KEY_BYTES) throw new HallmarkError('ERR_CRYPTO_BAD_KEY');
}

/**
 * Encrypts and authenticates `plaintext`, binding it to `aad` (which is authenticated but not
 * stored). Output layout: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
export function seal(key: Buffer, plaintext: Buffer, aad: string | Buffer): Buffer {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/**
 * Reverses {@link seal}. Any change to the sealed bytes, the key or the AAD fails with
 * `ERR_CRYPTO_OPEN_FAILED`; there is no partial or unauthenticated output.
 */
export function open(key: AeadKey, sealed: Buffer, aad: string | Buffer): Buffer {
  checkKey(key);
  if (sealed.length < HEADER_BYTES || sealed[0] !== VERSION) {
    throw new HallmarkError('ERR_CRYPTO_OPEN_FAILED', {
      detail: 'sealed data has an unknown layout',
    });
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new HallmarkError('ERR_CRYPTO_OPEN_FAILED', { cause });
  }
}
