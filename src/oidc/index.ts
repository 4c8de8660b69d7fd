// The two OpenID Connect discovery documents for JWT-SVIDs, built pure: the provider metadata
// and the JWK Set its `jwks_uri` names. (One module, so the folder's public surface is the
// module itself.)

/** Where the documents live, relative to the issuer (and to an export directory). */
export const OIDC_PATHS = Object.freeze({
  /** @see OpenID Connect Discovery 1.0 §4: the issuer, then this path. */
  discovery: '/.well-known/openid-configuration',
  /** Beside it, so one `.well-known/` folder of a bucket holds both. */
  jwks: '/.well-known/jwks.json',
});

/** One JWT authority as a relying party sees it: its public key and the algorithm it signs. */
export interface OidcSigningKey {
  readonly alg: string;
  /** The public JWK as the SPIFFE bundle publishes it (`use: jwt-svid`, a `kid`). */
  readonly jwk: {
    readonly kty: string;
    readonly kid?: string;
    readonly crv?: string;
    readonly x?: string;
    readonly y?: string;
    readonly n?: string;
    readonly e?: string;
  };
}

/** The provider metadata Hallmark serves. */
export interface DiscoveryDocument {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly response_types_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
}

/** A JWK of the OIDC key set: the key's public members, `kid`, `alg` and `use: sig`. */
export interface OidcJwk {
  readonly kty: string;
  readonly use: 'sig';
  readonly kid: string;
  readonly alg: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

/** `jwks_uri` of an issuer: the key set beside the discovery document. */
export function jwksUriOf(issuer: string): string {
  return `${issuer}${OIDC_PATHS.jwks}`;
}

/**
 * The provider metadata: only what a relying party of JWT-SVIDs needs, and nothing that names
 * an endpoint Hallmark does not serve (no authorization, token or userinfo endpoint). The
 * algorithms are those of the published keys, in a stable order; `fallback` (the configured
 * one) when no key is loaded yet. @see OpenID Connect Discovery 1.0 §3 (REQUIRED members)
 */
export function discoveryDocument(
  issuer: string,
  keys: readonly OidcSigningKey[],
  fallback: string,
): DiscoveryDocument {
  const algorithms = [...new Set(keys.map((key) => key.alg))].sort();
  return {
    issuer,
    jwks_uri: jwksUriOf(issuer),
    // JWT-SVIDs play the part of ID Tokens: signed, never encrypted, `sub` the same for all.
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algorithms.length > 0 ? algorithms : [fallback],
  };
}

/**
 * The JWK Set at `jwks_uri`: every published JWT authority (prepared ones too, so relying
 * parties hold a key before its first token), with `use: sig` (RFC 7517 §4.2) instead of
 * SPIFFE's `jwt-svid`, which generic JWT libraries skip, and `alg` (§4.4) so a library can
 * refuse a key used with another algorithm. X.509 authorities are never in it.
 */
export function oidcKeySet(keys: readonly OidcSigningKey[]): { keys: OidcJwk[] } {
  const out: OidcJwk[] = [];
  for (const { alg, jwk } of keys) {
    if (jwk.kid === undefined || jwk.kid === '') continue;
    const members =
      jwk.kty === 'EC' ? { crv: jwk.crv, x: jwk.x, y: jwk.y } : { n: jwk.n, e: jwk.e };
    out.push({ kty: jwk.kty, use: 'sig', kid: jwk.kid, alg, ...members });
  }
  return { keys: out };
}

/**
 * How long a cache may keep either document: at most half the time a new JWT authority is
 * published before it signs (its propagation time), so a relying party that cached the key
 * set just before a new key appeared refetches it before that key's first token; never more
 * than an hour. @see RFC 9111 §5.2.2.1
 */
export function oidcCacheMaxAgeSeconds(publicationLeadMs: number): number {
  return Math.max(0, Math.min(3600, Math.floor(publicationLeadMs / 2000)));
}
