// A JWT authority key: the key pair that signs JWT-SVIDs, its kid, bundle JWK and sealed form.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { BundleJwk } from '../ca/index.js';
import type { MasterKey } from '../crypto/index.js';
import { openPrivateKey, sealPrivateKey } from '../keyring/index.js';
import { keyShapeOf, type JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A freshly generated or unsealed JWT authority. */
export interface JwtAuthorityMaterial {
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  readonly alg: JwtSvidAlgorithm;
  /** The public key as published in the SPIFFE bundle. */
  readonly bundleJwk: BundleJwk;
  readonly privateKey: KeyObject;
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

/** Generates a key pair for `alg` in node:crypto; its kid is the public key's JWK thumbprint. */
export async function generateJwtAuthority(alg: JwtSvidAlgorithm): Promise<JwtAuthorityMaterial> {
  const shape = keyShapeOf(alg);
  const { publicKey, privateKey } =
    shape.kty === 'EC'
      ? await generateKeyPairAsync('ec', { namedCurve: shape.crv })
      : await generateKeyPairAsync('rsa', { modulusLength: shape.modulusBits });
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await thumbprintOf(publicJwk);
  return { kid, alg, bundleJwk: bundleJwkOf(publicJwk, kid), privateKey };
}

/** AAD binds a sealed key to its kid and algorithm, so rows cannot be swapped or relabelled. */
function sealAad(kid: string, alg: JwtSvidAlgorithm): string {
  return `jwt-authority-key|${kid}|${alg}`;
}

/** The private key as PKCS#8 DER sealed under the master key. */
export function sealJwtAuthority(master: MasterKey, material: JwtAuthorityMaterial): Buffer {
  return sealPrivateKey(master, material.privateKey, sealAad(material.kid, material.alg));
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
