// Prometheus metrics of federation: refreshes and failures per foreign trust domain, and when
// each bundle was last fetched successfully (from the table, so every replica reports it).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FederatedBundleCache } from './federated-bundle-cache.js';
import type { FederationObserver } from './federation-poller.js';

/**
 * Registers the metrics on `registry` and returns the observer the poller reports to:
 * - `hallmark_federation_refresh_errors_total{trust_domain,code}`: failed or refused fetches
 *   seen by this replica (the one that held the refresh lock);
 * - `hallmark_federation_bundle_updates_total{trust_domain}`: newer bundles kept;
 * - `hallmark_federation_last_success_timestamp_seconds{trust_domain}`: the last good fetch,
 *   as stored (alert when it falls behind by more than a few refresh hints);
 * - `hallmark_federation_bundle_sequence{trust_domain}`: `spiffe_sequence` of the kept bundle.
 */
export function federationMetrics(
  registry: Registry,
  cache: FederatedBundleCache,
): FederationObserver {
  const errors = new Counter({
    name: 'hallmark_federation_refresh_errors_total',
    help: 'Bundle endpoint fetches that failed or were refused, by trust domain and error code',
    labelNames: ['trust_domain', 'code'] as const,
    registers: [registry],
  });
  const updates = new Counter({
    name: 'hallmark_federation_bundle_updates_total',
    help: 'Newer foreign bundles kept, by trust domain',
    labelNames: ['trust_domain'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'hallmark_federation_last_success_timestamp_seconds',
    help: 'When each foreign bundle endpoint last answered with a bundle that was accepted',
    labelNames: ['trust_domain'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of cache.rows()) {
        if (row.lastSuccessAt !== undefined) {
          this.set({ trust_domain: row.trustDomain }, row.lastSuccessAt / 1000);
        }
      }
    },
  });
  new Gauge({
    name: 'hallmark_federation_bundle_sequence',
    help: 'spiffe_sequence of the kept bundle of each foreign trust domain',
    labelNames: ['trust_domain'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of cache.rows()) {
        if (row.bundle?.sequence !== undefined) {
          this.set({ trust_domain: row.trustDomain }, row.bundle.sequence);
        }
      }
    },
  });
  return {
    refreshed(trustDomain, outcome) {
      if (outcome === 'updated') updates.inc({ trust_domain: trustDomain });
    },
    failed(trustDomain, code) {
      errors.inc({ trust_domain: trustDomain, code });
    },
  };
}
