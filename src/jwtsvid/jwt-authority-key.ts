// A JWT authority key: the key pair that signs JWT-SVIDs, its kid, bundle JWK and stored form.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { BundleJwk } from '../ca/index.js';
import type { MasterKey } from '../crypto/index.js';
import {
  openPrivateKey,
  sealPrivateKey,
  type KeyringKeyType,
  type KeyVault,
  type NewKey,
} from '../keyring/index.js';
import { keyShapeOf, type JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** A freshly generated JWT authority, not yet stored. */
export interface JwtAuthorityMaterial {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  readonly alg: JwtSvidAlgorithm;
  /** The public key as published in the SPIFFE bundle. */
  readonly bundleJwk: BundleJwk;
  /** The key pair: in this process (to be sealed) or in the PKCS#11 token. */
  readonly key: NewKey;
}

/**
 * The bundle entry for a public key: only the members the key type needs, `use: jwt-svid` and
 * the `kid` (both required by SPIFFE JWT-SVID §6.1). No `alg`: SPIFFE bundle §4.2 asks for
 * nothing beyond what the specs define, and the token header names the algorithm.
 */
export function bundleJwkOf(publicJwk: JWK, kid: string): BundleJwk {
  if (publicJwk.kty === 'EC') {
    return { kty: 'EC', use: 'jwt-svid', kid, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y };
  }
  return { kty: 'RSA', use: 'jwt-svid', kid, n: publicJwk.n, e: publicJwk.e };
}

/** RFC 7638 thumbprint over exactly the required members of the key type (§3.2). */
async function thumbprintOf(publicJwk: JWK): Promise<string> {
  const required: JWK =
    publicJwk.kty === 'EC'
      ? { kty: 'EC', crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }
      : { kty: 'RSA', n: publicJwk.n, e: publicJwk.e };
  return calculateJwkThumbprint(required, 'sha256');
}

/** The key type `alg` signs with (its curve, or its RSA modulus size). */
export function keyTypeOf(alg: JwtSvidAlgorithm): KeyringKeyType {
  const shape = keyShapeOf(alg);
  if (shape.kty === 'EC') {
    return shape.crv === 'P-256' ? 'ec-p256' : shape.crv === 'P-384' ? 'ec-p384' : 'ec-p521';
  }
  return `rsa-${shape.modulusBits}` as KeyringKeyType;
}

/**
 * Generates a key pair for `alg` in the vault (node:crypto, or the PKCS#11 token when one is
 * configured); its kid is the public key's JWK thumbprint, known only once the key exists.
 */
export async function generateJwtAuthority(
  vault: KeyVault,
  alg: JwtSvidAlgorithm,
): Promise<JwtAuthorityMaterial> {
  const key = await vault.generate('jwt-authority', keyTypeOf(alg));
  const publicJwk = key.publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await thumbprintOf(publicJwk);
  return { kid, alg, bundleJwk: bundleJwkOf(publicJwk, kid), key };
}

/** The public key of a bundle JWK (its key members only). */
export function publicKeyOfBundleJwk(jwk: BundleJwk): KeyObject {
  const { kty, crv, x, y, n, e } = jwk;
  return createPublicKey({ key: { kty, crv, x, y, n, e } as JsonWebKey, format: 'jwk' });
}

/** AAD binds a sealed key to its kid and algorithm, so rows cannot be swapped or relabelled. */
function sealAad(kid: string, alg: JwtSvidAlgorithm): string {
  return `jwt-authority-key|${kid}|${alg}`;
}

/** A private key as PKCS#8 DER sealed under the master key. */
export function sealJwtAuthority(
  master: MasterKey,
  material: Pick<JwtAuthorityMaterial, 'kid' | 'alg'>,
  privateKey: KeyObject,
): Buffer {
  return sealPrivateKey(master, privateKey, sealAad(material.kid, material.alg));
}

/**
 * Opens a sealed private key.
 * @throws HallmarkError ERR_CRYPTO_OPEN_FAILED when the row was altered or moved.
 */
export function openJwtAuthority(
  master: MasterKey,
  kid: string,
  alg: JwtSvidAlgorithm,
  sealed: Buffer,
): KeyObject {
  return openPrivateKey(master, sealed, sealAad(kid, alg));
}
