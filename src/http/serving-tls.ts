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

/** Node TLS options: TLS 1.2+, client certificates requested but optional (checked per route). */
export function tlsOptions(
  material: TlsMaterial,
): SecureContextOptions & { requestCert: true; rejectUnauthorized: false } {
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: 'TLSv1.2',
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/** Swaps the live server's certificate and client-CA list without a restart. */
export function followTlsChanges(server: Server, source: ServingTlsSource): () => void {
  return source.onChange((material) => {
    const { key, cert, ca, minVersion } = tlsOptions(material);
    server.setSecureContext({ key, cert, ca, minVersion });
  });
}
