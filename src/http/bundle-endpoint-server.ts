// The SPIFFE bundle endpoint on its own listener (HALLMARK_FEDERATION_LISTEN): `GET /v1/bundle`
// and nothing else, no client authentication, under a Web PKI certificate or the server's SVID.
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { BundleDocument } from '../ca/index.js';
import type { ServingTlsSource } from './serving-tls.js';

/** Options of {@link startBundleEndpoint}. */
export interface BundleEndpointOptions {
  readonly host: string;
  readonly port: number;
  /** The certificate to present: the operator's Web PKI one, or the server's own SVID. */
  readonly tls: Pick<ServingTlsSource, 'current' | 'onChange'>;
  /** The bundle in force (shared with `GET /v1/bundle` on the main listener). */
  readonly document: () => BundleDocument;
}

/** A running bundle endpoint listener. */
export interface BundleEndpointServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The path served; the same as on the main listener, so one URL shape fits both. */
export const BUNDLE_PATH = '/v1/bundle';

const NOT_FOUND = JSON.stringify({
  error: { code: 'ERR_REQUEST_NOT_FOUND', message: 'route not found' },
});

function send(
  res: ServerResponse,
  status: number,
  body: string,
  options: { headers?: Record<string, string>; head?: boolean } = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...options.headers,
  });
  res.end(options.head === true ? undefined : body);
}

/**
 * Starts the listener. Only `GET` (and `HEAD`) of {@link BUNDLE_PATH} answers, with the bundle as
 * UTF-8 JSON (`Content-Type: application/json`, SPIFFE Federation §5.2.1.3, §5.2.2.3); any other
 * path or method is 404, so this port exposes nothing but the bundle. Client
 * certificates are never requested (§5.2.1.3: servers MUST NOT require client authentication).
 * TLS 1.2 and later with Node's default ciphers (Mozilla's intermediate profile, §5).
 */
export async function startBundleEndpoint(
  options: BundleEndpointOptions,
): Promise<BundleEndpointServer> {
  const material = options.tls.current();
  const server: Server = createServer(
    { key: material.key, cert: material.cert, minVersion: 'TLSv1.2' },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const head = req.method === 'HEAD';
      if (path !== BUNDLE_PATH || (req.method !== 'GET' && !head)) {
        return send(res, 404, NOT_FOUND, { head });
      }
      const document = options.document();
      send(res, 200, JSON.stringify(document), {
        head,
        headers: { 'x-spiffe-sequence': String(document.spiffe_sequence) },
      });
    },
  );
  // Bounded connections: a slow client cannot hold sockets open for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  const unsubscribe = options.tls.onChange((next) => {
    server.setSecureContext({ key: next.key, cert: next.cert, minVersion: 'TLSv1.2' });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    unsubscribe();
    throw err;
  }
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      unsubscribe();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
