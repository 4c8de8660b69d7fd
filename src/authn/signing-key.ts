// An access-token signing key: an ES256 (P-256) key pair, its kid, and its sealed storage form.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { MasterKey } from '../crypto/index.js';
import { openPrivateKey, sealPrivateKey } from '../keyring/index.js';

const generateEcKeyPair = promisify(generateKeyPair);

/** The only JWS algorithm access tokens use. @see RFC 7518 §3.4 (ECDSA P-256 SHA-256) */
export const ACCESS_TOKEN_ALG = 'ES256';

/** A freshly generated or unsealed signing key. */
export interface SigningKeyMaterial {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  /** The public key as published to every replica: EC P-256 with `kid`, `alg`, `use`. */
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject;
}

/** Generates a new P-256 key pair in node:crypto; the kid is its JWK thumbprint. */
export async function generateSigningKey(): Promise<SigningKeyMaterial> {
  const { publicKey, privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  // @see RFC 7638 §3.2: the thumbprint covers exactly crv, kty, x, y for EC keys.
  const kid = await calculateJwkThumbprint({ kty, crv, x, y } as JWK, 'sha256');
  return { kid, publicJwk: { kty, crv, x, y, kid, alg: ACCESS_TOKEN_ALG, use: 'sig' }, privateKey };
}

/** AAD binds a sealed key to its kid, so a key row cannot be swapped with another. */
function sealAad(kid: string): string {
  return `token-signing-key|${kid}`;
}

/** The private key as PKCS#8 DER sealed under the master key. */
export function sealSigningKey(master: MasterKey, material: SigningKeyMaterial): Buffer {
  return sealPrivateKey(master, material.privateKey, sealAad(material.kid));
}

/**
 * Opens a sealed private key.
 * @throws HallmarkError ERR_CRYPTO_OPEN_FAILED when the row was altered or moved.
 */
export function openSigningKey(master: MasterKey, kid: string, sealed: Buffer): KeyObject {
  return openPrivateKey(master, sealed, sealAad(kid));
}
