// JWS Compact Serialization signed by a token key (jose signs only with keys it holds itself).
import { base64url, type CompactJWSHeaderParameters } from 'jose';
import type { HsmKeyType } from './key-objects.js';
import type { KeySigner, SignOptions } from './token-signer.js';

/** JWS algorithms a token key can produce (RFC 7518 §3.1). */
export type TokenJwsAlgorithm =
  'ES256' | 'ES384' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

// RFC 7518 §3.4: ES* signatures are r‖s, each the curve's field size; §3.3 and §3.5 for RSA.
const ALGORITHMS: Readonly<Record<TokenJwsAlgorithm, SignOptions & { keyTypes: HsmKeyType[] }>> = {
  ES256: { keyTypes: ['ec-p256'], hash: 'sha256', format: 'ieee-p1363' },
  ES384: { keyTypes: ['ec-p384'], hash: 'sha384', format: 'ieee-p1363' },
  RS256: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha256', padding: 'pkcs1' },
  RS384: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha384', padding: 'pkcs1' },
  RS512: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha512', padding: 'pkcs1' },
  PS256: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha256', padding: 'pss' },
  PS384: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha384', padding: 'pss' },
  PS512: { keyTypes: ['rsa-2048', 'rsa-3072'], hash: 'sha512', padding: 'pss' },
};

/** The protected header of a token-signed JWS: `alg` one a token key produces. */
export type TokenJwsHeader = CompactJWSHeaderParameters & { alg: TokenJwsAlgorithm };

/**
 * Signs `payload` as a compact JWS (RFC 7515 §7.1): BASE64URL(header) '.' BASE64URL(payload)
 * '.' BASE64URL(signature), the signature over the ASCII of the first two parts (§5.1).
 * jose's signers take a KeyObject, CryptoKey or JWK holding the private key, which a token
 * never gives out, so the signing input is built here with jose's base64url codec and signed
 * through the token; jose's verifiers check the result like any other JWS.
 *
 * @throws TypeError when `alg` does not fit the key, or the header asks for an unencoded
 *   payload (RFC 7797), which this serialisation does not do.
 */
export async function signCompactJws(
  signer: KeySigner,
  header: TokenJwsHeader,
  payload: Uint8Array | string,
): Promise<string> {
  const algorithm = ALGORITHMS[header.alg];
  if (algorithm === undefined || !algorithm.keyTypes.includes(signer.keyType)) {
    throw new TypeError(`${String(header.alg)} cannot be signed with a ${signer.keyType} key`);
  }
  if ('b64' in header) throw new TypeError('unencoded payloads (b64) are not supported');
  const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(payload)}`;
  const { hash, format, padding } = algorithm;
  const signature = await signer.sign(Buffer.from(signingInput, 'ascii'), {
    hash,
    ...(format ? { format } : {}),
    ...(padding ? { padding } : {}),
  });
  return `${signingInput}.${base64url.encode(signature)}`;
}
