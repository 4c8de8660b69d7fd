// The SPIFFE bundle document: a JWKS of trust anchors with SPIFFE's extra members, built pure.
import { X509Certificate } from 'node:crypto';
import type { TrustBundle } from './certificate-authority.js';

/** One JWK of a SPIFFE bundle. @see SPIFFE Trust Domain and Bundle §4.2 */
export interface BundleJwk {
  kty: string;
  use: 'x509-svid' | 'jwt-svid';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  x5c?: string[];
}

/** The bundle as served by `GET /v1/bundle`. */
export interface BundleDocument {
  keys: BundleJwk[];
  spiffe_sequence: number;
  spiffe_refresh_hint: number;
}

/** Extra JWKs published beside the X.509 anchors (JWT-SVID signing keys). */
export type ExtraJwks = readonly BundleJwk[];

/**
 * Builds the JWKS: one `x509-svid` key per CA certificate, its public key as JWK members and
 * the certificate itself as a one-element `x5c` (SPIFFE bundle §4.2.1 requires exactly one).
 */
export function bundleDocument(bundle: TrustBundle, extra: ExtraJwks = []): BundleDocument {
  const keys: BundleJwk[] = bundle.certificatesPem.map((pem) => {
    const certificate = new X509Certificate(pem);
    const jwk = certificate.publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const key: BundleJwk = {
      kty: jwk.kty as string,
      use: 'x509-svid',
      x5c: [certificate.raw.toString('base64')],
    };
    for (const member of ['crv', 'x', 'y', 'n', 'e'] as const)
      if (jwk[member] !== undefined) key[member] = jwk[member];
    return key;
  });
  return {
    keys: [...keys, ...extra],
    spiffe_sequence: bundle.sequence,
    spiffe_refresh_hint: bundle.refreshHintSeconds,
  };
}
