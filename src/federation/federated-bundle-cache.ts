// Every replica's view of the federated bundles: the table read into memory, reloaded on NOTIFY
// (sent by whichever replica refreshed them) and on a timer in case a notification was lost.
import type { Database } from '../db/index.js';
import { loadFederatedBundles, type FederatedBundleRow } from './federated-bundle-table.js';
import { bundleDocumentOf, type SpiffeBundle } from '../spiffe/index.js';

/** NOTIFY channel on which replicas learn that the federated bundles changed. */
export const FEDERATION_CHANNEL = 'hallmark_federation';

/** Reload interval when no notification comes (the safety net). */
const RELOAD_MS = 30_000;

/** The kept bundles, by trust domain. */
export class FederatedBundleCache {
  #rows: readonly FederatedBundleRow[] = [];
  /** Each kept bundle as a SPIFFE bundle document, built once per reload. */
  #documents = new Map<string, Readonly<Record<string, unknown>>>();
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #reloading: Promise<void> | undefined;
  #again = false;
  readonly #listeners = new Set<() => void>();

  private constructor(private readonly db: Database) {}

  /** Loads the table and follows it. */
  static async open(db: Database): Promise<FederatedBundleCache> {
    const cache = new FederatedBundleCache(db);
    await cache.reload();
    cache.#unsubscribe = await db.subscribe(FEDERATION_CHANNEL, () => {
      void cache.reload().catch(() => undefined);
    });
    cache.#timer = setInterval(() => void cache.reload().catch(() => undefined), RELOAD_MS);
    cache.#timer.unref();
    return cache;
  }

  /** Every row as last read (relationship state included). */
  rows(): readonly FederatedBundleRow[] {
    return this.#rows;
  }

  /**
   * The kept bundles of `trustDomains` (those that have one) as SPIFFE bundle documents, keyed
   * by trust domain name: what a workload federating with them receives.
   */
  documents(trustDomains: readonly string[]): Record<string, Readonly<Record<string, unknown>>> {
    const out: Record<string, Readonly<Record<string, unknown>>> = {};
    for (const trustDomain of trustDomains) {
      const document = this.#documents.get(trustDomain);
      if (document !== undefined) out[trustDomain] = document;
    }
    return out;
  }

  /** The bundle kept for `trustDomain`, if any. */
  bundle(trustDomain: string): SpiffeBundle | undefined {
    return this.#rows.find((row) => row.trustDomain === trustDomain)?.bundle;
  }

  /** Calls `listener` after a reload; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads the table; overlapping calls coalesce and the last read wins. */
  reload(): Promise<void> {
    if (this.#reloading !== undefined) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      try {
        do {
          this.#again = false;
          const rows = await loadFederatedBundles(this.db);
          const documents = new Map<string, Readonly<Record<string, unknown>>>();
          for (const row of rows) {
            if (row.bundle !== undefined) {
              documents.set(row.trustDomain, Object.freeze(bundleDocumentOf(row.bundle)));
            }
          }
          this.#rows = rows;
          this.#documents = documents;
        } while (this.#again);
      } finally {
        this.#reloading = undefined;
      }
      for (const listener of [...this.#listeners]) listener();
    })();
    return this.#reloading;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}
