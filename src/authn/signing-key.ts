// An access-token signing key: an ES256 (P-256) key pair, its kid, and its stored form.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { MasterKey } from '../crypto/index.js';
import { openPrivateKey, sealPrivateKey, type KeyVault, type NewKey } from '../keyring/index.js';

/** The only JWS algorithm access tokens use. @see RFC 7518 §3.4 (ECDSA P-256 SHA-256) */
export const ACCESS_TOKEN_ALG = 'ES256';

/** A freshly generated signing key, not yet stored. */
export interface SigningKeyMaterial {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  /** The public key as published to every replica: EC P-256 with `kid`, `alg`, `use`. */
  readonly publicJwk: JWK;
  /** The key pair: in this process (to be sealed) or in the PKCS#11 token. */
  readonly key: NewKey;
}

/**
 * Generates a new P-256 key pair in the vault (node:crypto, or the PKCS#11 token when one is
 * configured); the kid is its JWK thumbprint, known only once the key exists.
 */
export async function generateSigningKey(vault: KeyVault): Promise<SigningKeyMaterial> {
  const key = await vault.generate('access-token', 'ec-p256');
  const { kty, crv, x, y } = key.publicKey.export({ format: 'jwk' });
  // @see RFC 7638 §3.2: the thumbprint covers exactly crv, kty, x, y for EC keys.
  const kid = await calculateJwkThumbprint({ kty, crv, x, y } as JWK, 'sha256');
  return { kid, publicJwk: { kty, crv, x, y, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }, key };
}

/** The public key of a stored JWK (its key members only). */
export function publicKeyOf(jwk: JWK): KeyObject {
  return createPublicKey({
    key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
    format: 'jwk',
  });
}

/** AAD binds a sealed key to its kid, so a key row cannot be swapped with another. */
function sealAad(kid: string): string {
  return `token-signing-key|${kid}`;
}

/** A private key as PKCS#8 DER sealed under the master key. */
export function sealSigningKey(master: MasterKey, kid: string, privateKey: KeyObject): Buffer {
  return sealPrivateKey(master, privateKey, sealAad(kid));
}

/**
 * Opens a sealed private key.
 * @throws HallmarkError ERR_CRYPTO_OPEN_FAILED when the row was altered or moved.
 */
export function openSigningKey(master: MasterKey, kid: string, sealed: Buffer): KeyObject {
  return openPrivateKey(master, sealed, sealAad(kid));
}
