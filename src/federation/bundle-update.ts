// Whether a fetched bundle replaces the one kept: newest by spiffe_sequence, never backwards,
// and when to fetch again — pure decisions over the two bundles and a hint.
import type { ErrorCode } from '../errors/index.js';
import { sameAuthorities, type SpiffeBundle } from '../spiffe/index.js';

/** What to do with a fetched bundle. */
export type BundleUpdate =
  | { readonly kind: 'store' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refuse'; readonly code: ErrorCode; readonly detail: string };

/** The bundle kept for a trust domain, and whether it came from the endpoint or the operator. */
export interface KeptBundle {
  readonly bundle: SpiffeBundle;
  readonly source: 'endpoint' | 'bootstrap';
}

function regressed(detail: string): BundleUpdate {
  return { kind: 'refuse', code: 'ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED', detail };
}

/**
 * Decides on a fetched bundle (Federation §4.2: keep the latest, compared by sequence):
 * - nothing kept, or only the operator's bootstrap bundle: store it;
 * - a lower `spiffe_sequence` than the one kept: refuse — a replayed or rolled-back bundle
 *   must not bring back distrusted keys;
 * - the same sequence: unchanged if the authorities are the same, else refuse (§4.1.1: the
 *   sequence MUST change whenever the contents do);
 * - no sequence: stored when the kept bundle has none either (§4.2: the most recently
 *   retrieved is then up to date), refused after a sequenced one — dropping the sequence
 *   would be a way around "never backwards".
 */
export function decideBundleUpdate(
  kept: KeptBundle | undefined,
  fetched: SpiffeBundle,
): BundleUpdate {
  if (kept === undefined || kept.source === 'bootstrap') return { kind: 'store' };
  const before = kept.bundle.sequence;
  const after = fetched.sequence;
  if (after === undefined) {
    if (before !== undefined) {
      return regressed(`no spiffe_sequence after bundle sequence ${before}`);
    }
    return sameAuthorities(kept.bundle, fetched) ? { kind: 'unchanged' } : { kind: 'store' };
  }
  if (before === undefined || after > before) return { kind: 'store' };
  if (after < before) return regressed(`spiffe_sequence ${after} is lower than ${before}`);
  if (!sameAuthorities(kept.bundle, fetched)) {
    return regressed(`spiffe_sequence ${after} again, with other authorities`);
  }
  // Same authorities; a changed refresh hint alone is worth keeping.
  return kept.bundle.refreshHintSeconds === fetched.refreshHintSeconds
    ? { kind: 'unchanged' }
    : { kind: 'store' };
}

/** Refresh hint assumed when a bundle has none (Federation §4.1: five minutes). */
export const DEFAULT_REFRESH_HINT_SECONDS = 300;
/** Bounds on the interval between two fetches of one endpoint. */
export const MIN_REFRESH_MS = 5_000;
export const MAX_REFRESH_MS = 3_600_000;

/**
 * When to fetch an endpoint again: half its bundle's refresh hint, so that the server's fetch
 * and its sidecars' (which also poll at half the hint) together bring a change to workloads
 * within one hint; at least 5 s (a hint of a second must not turn into a flood) and at most
 * an hour (a 28-day hint must not leave a revoked key trusted for weeks). After a failure the
 * same interval applies: §6.2 asks for no faster retries.
 */
export function refreshDelayMs(hintSeconds: number | undefined): number {
  const hint = hintSeconds ?? DEFAULT_REFRESH_HINT_SECONDS;
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, (hint * 1000) / 2));
}

/**
 * When to try again after a failed fetch. With a fetched bundle kept: its usual interval (§6.2:
 * no faster retries, the keys were published ahead for that). With none yet (a new https_web
 * relationship, or only the bootstrap bundle): 5 s doubling per failure up to the default
 * interval, so a peer that is still starting is picked up soon.
 */
export function retryDelayMs(kept: KeptBundle | undefined, failures: number): number {
  if (kept?.source === 'endpoint') return refreshDelayMs(kept.bundle.refreshHintSeconds);
  const backoff = MIN_REFRESH_MS * 2 ** Math.min(Math.max(failures, 0), 16);
  return Math.min(backoff, refreshDelayMs(undefined));
}
