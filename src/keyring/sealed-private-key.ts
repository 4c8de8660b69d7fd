// A private key at rest: PKCS#8 DER sealed under the master key, bound to its row by the AAD.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { MasterKey } from '../crypto/index.js';

/**
 * Seals `privateKey` as PKCS#8 DER under the master key. The DER copy is wiped afterwards so
 * the plaintext lives no longer than the call.
 * @param aad binds the sealed bytes to the row that holds them (kid, and whatever else must not
 *   be swapped); opening needs the same string.
 */
export function sealPrivateKey(master: MasterKey, privateKey: KeyObject, aad: string): Buffer {
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    return master.seal(pkcs8, aad);
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * Opens a private key sealed by {@link sealPrivateKey}.
 * @throws HallmarkError ERR_CRYPTO_OPEN_FAILED when the bytes or the AAD differ from sealing.
 */
export function openPrivateKey(master: MasterKey, sealed: Buffer, aad: string): KeyObject {
  const pkcs8 = master.open(sealed, aad);
  try {
    return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    pkcs8.fill(0);
  }
}
