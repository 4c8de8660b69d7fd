// What signs for one key: the keyring hands out signers, so a key held by a device can plug in.
import { constants, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { StoredKey } from './key-table.js';

/** How to sign, with node:crypto's names and defaults (the same options a PKCS#11 signer takes). */
export interface SignOptions {
  /** Default: SHA-384 for P-384 keys, SHA-256 otherwise. */
  readonly hash?: 'sha256' | 'sha384' | 'sha512';
  /** ECDSA only: `der` (X.509, the default) or `ieee-p1363` (r‖s, as JWS). */
  readonly format?: 'der' | 'ieee-p1363';
  /** RSA only: PKCS#1 v1.5 (default) or PSS with a salt as long as the digest. */
  readonly padding?: 'pkcs1' | 'pss';
}

/**
 * Signs with one key, wherever the key lives: a sealed key opened in this process
 * ({@link localSigner}), or a key in a PKCS#11 token (src/hsm's `TokenSigner` has this shape).
 */
export interface KeySigner {
  /** The public half, as certificates and JWKs carry it. */
  readonly publicKey: KeyObject;
  /** Like node:crypto's `sign(hash, data, key)`, asynchronous. */
  sign(data: Buffer, options?: SignOptions): Promise<Buffer>;
}

const signers = new WeakMap<KeyObject, KeySigner>();

function defaultHash(key: KeyObject): 'sha256' | 'sha384' {
  return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
}

/** node:crypto's key options for `options` (the private key to sign, the public to verify). */
function keyOptions(key: KeyObject, options: SignOptions) {
  return {
    key,
    dsaEncoding: options.format ?? 'der',
    // A salt as long as the digest, as RFC 8017 §9.1 recommends and JWS PS* require.
    ...(options.padding === 'pss'
      ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : {}),
  } as const;
}

/** The signer of a private key held in this process (one per key object, reused). */
export function localSigner(privateKey: KeyObject): KeySigner {
  let signer = signers.get(privateKey);
  if (signer === undefined) {
    signer = {
      publicKey: createPublicKey(privateKey),
      sign: async (data, options = {}) =>
        sign(options.hash ?? defaultHash(privateKey), data, keyOptions(privateKey, options)),
    };
    signers.set(privateKey, signer);
  }
  return signer;
}

/** True when `signature` is one a signer made over `data` with `options` for `publicKey`. */
export function verifiesFor(
  publicKey: KeyObject,
  data: Buffer,
  signature: Buffer,
  options: SignOptions = {},
): boolean {
  try {
    const hash = options.hash ?? defaultHash(publicKey);
    return verify(hash, data, keyOptions(publicKey, options), signature);
  } catch {
    return false;
  }
}

/** A stored key's signer: the kind's own (a device key), else its unsealed private key. */
export function signerOf(key: StoredKey): KeySigner | undefined {
  if (key.signer !== undefined) return key.signer;
  return key.privateKey === undefined ? undefined : localSigner(key.privateKey);
}
