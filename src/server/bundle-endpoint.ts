// Where this trust domain's SPIFFE bundle endpoint is served besides `GET /v1/bundle` on the main
// listener: its own listener (HALLMARK_FEDERATION_LISTEN), under a Web PKI certificate or the SVID.
import type { BundleDocument } from '../ca/index.js';
import type { ServerConfig } from '../config/index.js';
import { startBundleEndpoint, type ServingTlsSource } from '../http/index.js';
import { WebPkiCertificate } from './web-pki-certificate.js';

/** The bundle endpoint's own listener, as started. */
export interface BundleEndpoint {
  /** Its port; `undefined` when only the main listener serves the bundle. */
  readonly port: number | undefined;
  stop(): Promise<void>;
}

/**
 * `GET /v1/bundle` on the main listener is always the `https_spiffe` endpoint (the server's
 * SVID, SPIFFE ID `spiffe://<td>/hallmark/server`). With `HALLMARK_FEDERATION_LISTEN`, a second
 * listener serves only the bundle: under the Web PKI certificate of
 * `HALLMARK_FEDERATION_TLS_CERT` (profile `https_web`) if one is configured, else under the SVID.
 * @throws ConfigError when the Web PKI certificate or its key cannot be used.
 */
export async function startBundleEndpointFor(
  config: Pick<ServerConfig, 'federation'>,
  deps: {
    readonly svid: ServingTlsSource;
    readonly document: () => BundleDocument;
    readonly log: { warn(obj: object, msg?: string): void };
  },
): Promise<BundleEndpoint> {
  const { listen, webTls } = config.federation;
  if (listen === undefined) return { port: undefined, stop: async () => undefined };
  const web = webTls === undefined ? undefined : await WebPkiCertificate.load(webTls, deps.log);
  try {
    const server = await startBundleEndpoint({
      host: listen.host,
      port: listen.port,
      tls: web ?? deps.svid,
      document: deps.document,
    });
    return {
      port: server.port,
      async stop() {
        await server.close();
        web?.stop();
      },
    };
  } catch (err) {
    web?.stop();
    throw err;
  }
}
