// The server's TLS material and how it changes: renewed serving certificates and new bundles.
import type { Server } from 'node:https';
import type { SecureContextOptions } from 'node:tls';

/** Key and chain the server presents, and the CA bundle client certificates are checked against. */
export interface TlsMaterial {
  key: string;
  /** PEM chain, leaf first. */
  cert: string;
  /** PEM CA certificates trusted for client certificates (the current SPIFFE bundle). */
  ca: string[];
}

/** A source of serving TLS material that may change at runtime (renewal, CA rotation). */
export interface ServingTlsSource {
  current(): TlsMaterial;
  onChange(listener: (material: TlsMaterial) => void): () => void;
}

/** The oldest protocol version the listener accepts. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * TLS 1.2 cipher suites offered when `HALLMARK_TLS_CIPHERS` is not set: ECDHE key exchange
 * (forward secrecy) with an AEAD cipher only, as NIST SP 800-52 Rev. 2 §3.3.1 prefers. TLS 1.3
 * suites are all AEAD with ephemeral keys and are left at OpenSSL's defaults.
 */
export const DEFAULT_TLS12_CIPHERS: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/**
 * Node TLS options: TLS 1.2+ with `ciphers` for TLS 1.2, client certificates requested but
 * optional (checked per route).
 */
export function tlsOptions(
  material: TlsMaterial,
  ciphers: readonly string[] = DEFAULT_TLS12_CIPHERS,
): SecureContextOptions & { requestCert: true; rejectUnauthorized: false } {
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: TLS_MIN_VERSION,
    ciphers: ciphers.join(':'),
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/** Swaps the live server's certificate and client-CA list without a restart. */
export function followTlsChanges(
  server: Server,
  source: ServingTlsSource,
  ciphers: readonly string[] = DEFAULT_TLS12_CIPHERS,
): () => void {
  return source.onChange((material) => {
    const { key, cert, ca, minVersion } = tlsOptions(material, ciphers);
    server.setSecureContext({ key, cert, ca, minVersion, ciphers: ciphers.join(':') });
  });
}
