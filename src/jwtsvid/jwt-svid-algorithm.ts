// The JWS algorithms a JWT-SVID may use, and the key each one needs.

/**
 * Every `alg` a JWT-SVID may carry; validators must refuse any other value, including `none`
 * and the HMAC family. @see SPIFFE JWT-SVID §2.1 (RFC 7518 §3.3, §3.4, §3.5)
 */
export const JWT_SVID_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const;

/** One of {@link JWT_SVID_ALGORITHMS}. */
export type JwtSvidAlgorithm = (typeof JWT_SVID_ALGORITHMS)[number];

/** What new JWT authorities sign with unless configured otherwise (the default). */
export const DEFAULT_JWT_SVID_ALGORITHM: JwtSvidAlgorithm = 'ES256';

/** True when `alg` is on the JWT-SVID allowlist (case-sensitive, as RFC 7515 §4.1.1 says). */
export function isJwtSvidAlgorithm(alg: unknown): alg is JwtSvidAlgorithm {
  return typeof alg === 'string' && (JWT_SVID_ALGORITHMS as readonly string[]).includes(alg);
}

/** The key an algorithm signs with: an EC curve, or an RSA modulus size. */
export type JwtAuthorityKeyShape =
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384' | 'P-521' }
  | { readonly kty: 'RSA'; readonly modulusBits: number };

/**
 * The key shape for `alg`. ECDSA curves are fixed by RFC 7518 §3.4; RSA moduli follow the hash
 * strength (2048 bits is RFC 7518 §3.3's minimum; larger hashes get larger keys so the key is
 * not the weak link).
 */
export function keyShapeOf(alg: JwtSvidAlgorithm): JwtAuthorityKeyShape {
  switch (alg) {
    case 'ES256':
      return { kty: 'EC', crv: 'P-256' };
    case 'ES384':
      return { kty: 'EC', crv: 'P-384' };
    case 'ES512':
      return { kty: 'EC', crv: 'P-521' };
    case 'RS256':
    case 'PS256':
      return { kty: 'RSA', modulusBits: 2048 };
    case 'RS384':
    case 'PS384':
      return { kty: 'RSA', modulusBits: 3072 };
    case 'RS512':
    case 'PS512':
      return { kty: 'RSA', modulusBits: 4096 };
  }
}

/**
 * True when a public JWK (`kty`, `crv`) can verify `alg`: an EC key only the one algorithm of
 * its curve, an RSA key the RS and PS families. Checked before any signature work so a key is
 * never used with an algorithm it was not made for. @see RFC 8725 §3.1
 */
export function keyFitsAlgorithm(
  jwk: { readonly kty?: unknown; readonly crv?: unknown },
  alg: JwtSvidAlgorithm,
): boolean {
  if (alg.startsWith('ES')) {
    const shape = keyShapeOf(alg);
    return jwk.kty === 'EC' && shape.kty === 'EC' && jwk.crv === shape.crv;
  }
  return jwk.kty === 'RSA';
}
