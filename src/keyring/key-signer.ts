// What signs for one key: the keyring hands out signers, not raw private keys, where it can.
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { StoredKey } from './key-table.js';

/** The encodings of an ECDSA signature: DER for X.509 and CMS, IEEE P1363 (r‖s) for JOSE. */
export type SignatureEncoding = 'der' | 'ieee-p1363';

/**
 * Signs with one key, wherever the key lives. Sealed keys sign in this process; a key held by a
 * device (PKCS#11) would implement `sign` through the device and leave `privateKey` undefined.
 */
export interface KeySigner {
  /** The public half, as certificates and JWKs carry it. */
  readonly publicKey: KeyObject;
  /**
   * Signs `data`, hashing it with `hash` (`sha256`, …; `null` for Ed25519). ECDSA signatures
   * come in `encoding` (default DER); RSA uses PKCS#1 v1.5.
   */
  sign(hash: string | null, data: Buffer, encoding?: SignatureEncoding): Buffer;
  /**
   * The private key when it lives in this process, for libraries that take nothing else (jose,
   * the X.509 engine); `undefined` for a device key, which only signs through `sign`.
   */
  readonly privateKey: KeyObject | undefined;
}

const signers = new WeakMap<KeyObject, KeySigner>();

/** The signer of a private key held in this process (one per key object, reused). */
export function localSigner(privateKey: KeyObject): KeySigner {
  let signer = signers.get(privateKey);
  if (signer === undefined) {
    signer = {
      publicKey: createPublicKey(privateKey),
      privateKey,
      sign: (hash, data, encoding = 'der') =>
        sign(hash, data, { key: privateKey, dsaEncoding: encoding }),
    };
    signers.set(privateKey, signer);
  }
  return signer;
}

/** A stored key's signer: the kind's own (a device key), else its unsealed private key. */
export function signerOf(key: StoredKey): KeySigner | undefined {
  if (key.signer !== undefined) return key.signer;
  return key.privateKey === undefined ? undefined : localSigner(key.privateKey);
}
