// Federation in the composition root: the bundle endpoint's own listener, and the foreign
// bundles every replica follows and one at a time refreshes.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.js';
import type { BundleDocument } from '../ca/index.js';
import type { Clock } from '../clock/index.js';
import type { ServerConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import {
  FederatedBundleCache,
  FederationPoller,
  federationMetrics,
  type FederationRelationship,
} from '../federation/index.js';
import type { ServingTlsSource } from '../http/index.js';
import { startBundleEndpointFor } from './bundle-endpoint.js';
import { loadWebRoots } from './web-pki-certificate.js';

/** Federation as started. */
export interface Federation {
  /** The kept foreign bundles (this replica's view). */
  readonly bundles: FederatedBundleCache;
  /** The port of `HALLMARK_FEDERATION_LISTEN`'s listener, if configured. */
  readonly endpointPort: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the bundle endpoint's listener and the refresh of foreign bundles.
 * @throws ConfigError for an unusable `HALLMARK_FEDERATION_TLS_*` or `_WEB_CA` file.
 */
export async function startFederation(
  config: Pick<ServerConfig, 'federation'>,
  deps: {
    readonly db: Database;
    readonly audit: AuditLog;
    readonly clock: Clock;
    readonly log: Logger;
    readonly metrics: Registry;
    readonly svid: ServingTlsSource;
    readonly document: () => BundleDocument;
    readonly relationships: () => readonly FederationRelationship[];
  },
): Promise<Federation> {
  const webRoots = await loadWebRoots(config.federation.webCaPath);
  const endpoint = await startBundleEndpointFor(config, deps);
  let bundles: FederatedBundleCache | undefined;
  try {
    bundles = await FederatedBundleCache.open(deps.db);
    const poller = new FederationPoller({
      db: deps.db,
      audit: deps.audit,
      clock: deps.clock,
      log: deps.log.child({ component: 'federation' }),
      cache: bundles,
      relationships: deps.relationships,
      webRootsPem: webRoots,
      observer: federationMetrics(deps.metrics, bundles),
    });
    poller.start();
    const cache = bundles;
    return {
      bundles: cache,
      endpointPort: endpoint.port,
      async stop() {
        await poller.stop();
        cache.close();
        await endpoint.stop();
      },
    };
  } catch (err) {
    bundles?.close();
    await endpoint.stop();
    throw err;
  }
}
