// Public surface of SPIFFE federation: foreign bundles read, fetched, kept and refreshed.
export { parseBootstrapBundle } from './bootstrap-bundle.js';
export {
  DEFAULT_REFRESH_HINT_SECONDS,
  MAX_REFRESH_MS,
  MIN_REFRESH_MS,
  decideBundleUpdate,
  refreshDelayMs,
} from './bundle-update.js';
export { retryDelayMs } from './bundle-update.js';
export type { BundleUpdate, KeptBundle } from './bundle-update.js';
export { bundleEndpointUrlReason, fetchBundleDocument } from './bundle-endpoint-client.js';
export type { BundleFetch, EndpointProfile } from './bundle-endpoint-client.js';
export { bootstrapFingerprint } from './federation-relationship.js';
export type { FederationRelationship } from './federation-relationship.js';
export { FEDERATION_CHANNEL, FederatedBundleCache } from './federated-bundle-cache.js';
export { loadFederatedBundles } from './federated-bundle-table.js';
export type { FederatedBundleRow } from './federated-bundle-table.js';
export { FederationPoller } from './federation-poller.js';
export type { FederationObserver, FederationPollerDeps } from './federation-poller.js';
export { federationMetrics } from './federation-metrics.js';
