// Trust beyond the cluster: the OIDC issuer of JWT-SVIDs and the SPIFFE bundle endpoint's settings.
import path from 'node:path';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** Key type of the JWT authorities (`HALLMARK_JWT_SVID_KEY_TYPE`). */
export type JwtSvidKeyType = 'ec-p256' | 'rsa-2048';

/** The JWS algorithm each {@link JwtSvidKeyType} signs with (RFC 7518 §3.3, §3.4). */
export const JWT_SVID_ALGORITHM_OF: Readonly<Record<JwtSvidKeyType, 'ES256' | 'RS256'>> = {
  'ec-p256': 'ES256',
  'rsa-2048': 'RS256',
};

/** Where and how this trust domain's SPIFFE bundle endpoint is served, and what it trusts. */
export interface FederationConfig {
  /** `HALLMARK_FEDERATION_LISTEN`: a second listener that serves only `GET /v1/bundle`. */
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /**
   * `HALLMARK_FEDERATION_TLS_CERT` / `_KEY`: a Web PKI certificate for the `https_web` profile,
   * presented on `listen` (required with it). `undefined`: the bundle endpoint presents the
   * server's own SVID (`https_spiffe`).
   */
  readonly webTls: { readonly certPath: string; readonly keyPath: string } | undefined;
  /**
   * `HALLMARK_FEDERATION_WEB_CA`: PEM CA certificates trusted for `https_web` bundle endpoints
   * in addition to the system's public roots (a private Web PKI, or a test root).
   */
  readonly webCaPath: string | undefined;
}

/**
 * `HALLMARK_OIDC_ISSUER`: an https URL without userinfo, query, fragment or trailing slash, so
 * `iss` and the discovery document's `issuer` are the same string relying parties compare
 * byte for byte (OpenID Connect Discovery 1.0 §3, §4.3). `undefined`: OIDC discovery is off.
 */
export function readOidcIssuer(reader: EnvReader): string | undefined {
  const issuer = reader.optional('HALLMARK_OIDC_ISSUER');
  if (issuer === undefined) return undefined;
  const shape = /^https:\/\/[^/?#@\s]+(\/[^?#\s]*)?$/;
  let parsed: URL | undefined;
  try {
    parsed = new URL(issuer);
  } catch {
    parsed = undefined;
  }
  if (!shape.test(issuer) || parsed === undefined || parsed.hostname === '') {
    throw new ConfigError(
      'HALLMARK_OIDC_ISSUER',
      `expected an https:// URL without user, query or fragment, got "${issuer}"`,
    );
  }
  if (issuer.endsWith('/')) {
    throw new ConfigError(
      'HALLMARK_OIDC_ISSUER',
      `must not end with "/" (relying parties compare it to iss exactly), got "${issuer}"`,
    );
  }
  return issuer;
}

function readWebTls(reader: EnvReader): FederationConfig['webTls'] {
  const certPath = reader.optional('HALLMARK_FEDERATION_TLS_CERT');
  const keyPath = reader.optional('HALLMARK_FEDERATION_TLS_KEY');
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_TLS_CERT',
      'required when HALLMARK_FEDERATION_TLS_KEY is set',
    );
  }
  if (keyPath === undefined) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_TLS_KEY',
      'required when HALLMARK_FEDERATION_TLS_CERT is set',
    );
  }
  return Object.freeze({ certPath: path.resolve(certPath), keyPath: path.resolve(keyPath) });
}

/** Reads the bundle endpoint's settings; every failure names its variable. */
export function readFederationConfig(reader: EnvReader): FederationConfig {
  const listenText = reader.optional('HALLMARK_FEDERATION_LISTEN');
  const webCa = reader.optional('HALLMARK_FEDERATION_WEB_CA');
  const webTls = readWebTls(reader);
  // The main listener presents the SVID that sidecars trust; a Web PKI certificate gets a
  // listener of its own (SPIRE's model), so no client ever sees the other one by mistake.
  if (webTls !== undefined && listenText === undefined) {
    throw new ConfigError(
      'HALLMARK_FEDERATION_LISTEN',
      'required when HALLMARK_FEDERATION_TLS_CERT is set: the https_web bundle endpoint has its own listener',
    );
  }
  return Object.freeze({
    listen:
      listenText === undefined
        ? undefined
        : Object.freeze(reader.listen('HALLMARK_FEDERATION_LISTEN', listenText)),
    webTls,
    webCaPath: webCa === undefined ? undefined : path.resolve(webCa),
  });
}
