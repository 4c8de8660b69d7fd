// Envelope encryption: each payload under its own data key, the data key wrapped by the master key.
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { AEAD_KEY_BYTES, open, seal } from './aead.js';
import type { MasterKey } from './master-key.js';

/** A payload sealed under a fresh data key, plus that data key sealed under the master key. */
export interface Envelope {
  wrappedKey: Buffer;
  ciphertext: Buffer;
}

/**
 * Seals `plaintext` under a fresh 256-bit data key. `aad` binds both the payload and the
 * wrapped key to their context (e.g. secret path + version), so rows cannot be swapped.
 * Deleting the wrapped key crypto-shreds the payload.
 */
export function sealEnvelope(master: MasterKey, plaintext: Buffer, aad: string): Envelope {
  const dataKey = randomBytes(AEAD_KEY_BYTES);
  try {
    return {
      wrappedKey: master.seal(dataKey, `dek|${aad}`),
      ciphertext: seal(dataKey, plaintext, aad),
    };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Unwraps the data key of an envelope sealed with `aad`, as a secret KeyObject: its bytes live
 * in native memory, so a reader that keeps it (the secret cache) holds no copy in the JS heap.
 * Throws `ERR_CRYPTO_OPEN_FAILED` if the wrapped key was altered or moved.
 */
export function unwrapDataKey(master: MasterKey, wrappedKey: Buffer, aad: string): KeyObject {
  const raw = master.open(wrappedKey, `dek|${aad}`);
  try {
    return createSecretKey(raw);
  } finally {
    raw.fill(0);
  }
}

/** Opens an {@link Envelope}; throws `ERR_CRYPTO_OPEN_FAILED` if anything was altered or moved. */
export function openEnvelope(master: MasterKey, envelope: Envelope, aad: string): Buffer {
  return open(unwrapDataKey(master, envelope.wrappedKey, aad), envelope.ciphertext, aad);
}
