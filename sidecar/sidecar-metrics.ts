// The sidecar's Prometheus metrics: refreshes, failures by code, seconds to expiry, health.
import { createRequire } from 'node:module';
import type { Counter, Gauge, Registry } from 'prom-client';
import type * as PromClient from 'prom-client';
import type { RefreshAttempt } from './refresh-loop.js';
import { credentialsFresh } from './refresh-schedule.js';
import type { RefreshState } from './refresh-schedule.js';

/** What the gauges read when scraped. */
export type RefreshView = () => { readonly state: RefreshState; readonly now: number };

/**
 * prom-client, required when the first metrics are made rather than at module load: `--once`
 * (an init container, no /metrics) never loads it (~40 ms and ~1.5 MB of heap).
 */
function promClient(): typeof PromClient {
  return createRequire(import.meta.url)('prom-client') as typeof PromClient;
}

/**
 * One registry per sidecar (not prom-client's global one), so several sidecars in one test
 * process do not collide. Gauges are computed at scrape time from the saved state.
 */
export class SidecarMetrics {
  readonly registry: Registry;
  private readonly refreshes: Counter<'credential' | 'outcome'>;
  private readonly failures: Counter<'credential' | 'code'>;

  constructor(view: RefreshView, options: { processMetrics?: boolean } = {}) {
    const prom = promClient();
    this.registry = new prom.Registry();
    if (options.processMetrics ?? true) prom.collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.refreshes = new prom.Counter({
      name: 'hallmark_sidecar_refresh_total',
      help: 'Attempts to obtain a credential, by credential (svid, token) and outcome',
      labelNames: ['credential', 'outcome'] as const,
      registers,
    });
    this.failures = new prom.Counter({
      name: 'hallmark_sidecar_refresh_failures_total',
      help: 'Failed attempts to obtain a credential, by credential and error code',
      labelNames: ['credential', 'code'] as const,
      registers,
    });
    const secondsUntil = (pick: (state: RefreshState) => number | undefined) =>
      function (this: Gauge) {
        this.reset();
        const { state, now } = view();
        const expiresAt = pick(state);
        if (expiresAt !== undefined) this.set((expiresAt - now) / 1000);
      };
    new prom.Gauge({
      name: 'hallmark_sidecar_svid_expiry_seconds',
      help: 'Seconds until the current SVID expires (negative once expired; absent before the first)',
      registers,
      collect: secondsUntil((state) => state.svid?.expiresAt),
    });
    new prom.Gauge({
      name: 'hallmark_sidecar_token_expiry_seconds',
      help: 'Seconds until the current access token expires (negative once expired; absent before the first)',
      registers,
      collect: secondsUntil((state) => state.token?.expiresAt),
    });
    new prom.Gauge({
      name: 'hallmark_sidecar_healthy',
      help: '1 when all four files are present and unexpired, else 0',
      registers,
      collect(this: Gauge) {
        const { state, now } = view();
        this.set(credentialsFresh(state, now) ? 1 : 0);
      },
    });
  }

  /** Counts one attempt. */
  observe(attempt: RefreshAttempt): void {
    const outcome = attempt.error === undefined ? 'success' : 'failure';
    this.refreshes.inc({ credential: attempt.credential, outcome });
    if (attempt.error !== undefined) {
      this.failures.inc({ credential: attempt.credential, code: attempt.error.code });
    }
  }
}
