// Throttled strangers counted, not logged one by one: one audit row per address and interval.
import { LRUCache } from 'lru-cache';
import type { AuditLog, NamedAuditAction } from '../audit/index.js';
import type { Clock } from '../clock/index.js';

/** The audit action of an aggregated row. */
export const THROTTLED_ACTION: NamedAuditAction = 'http.preauth.throttled';

/** Target of the row that sums the addresses beyond the per-interval bound. */
export const OTHER_ADDRESSES = '*';

/** Options of {@link ThrottleTally}. */
export interface ThrottleTallyOptions {
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Addresses given their own row per interval; the rest share one `addr=*` row. Default 1,024. */
  readonly maxAddresses?: number;
  /** Told when a flush could not write its rows (they are kept for the next one). */
  readonly onFlushError?: (err: unknown) => void;
}

interface Window {
  counts: LRUCache<string, { n: number }>;
  overflow: number;
  since: number;
}

/**
 * Counts refusals of callers that have not authenticated, per source address, and writes
 * them as at most `maxAddresses + 1` audit rows per flush (`http.preauth.throttled`, target
 * `addr=<address> count=<n> since=<ISO time>`). So a stranger's flood grows the audit table by
 * a bounded number of rows per interval, whatever its size, and no refusal goes uncounted.
 */
export class ThrottleTally {
  readonly #maxAddresses: number;
  #window: Window;
  #flushing: Promise<number> = Promise.resolve(0);
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ThrottleTallyOptions) {
    this.#maxAddresses = options.maxAddresses ?? 1024;
    this.#window = this.#newWindow();
  }

  /** Counts `n` refusals of `address`. */
  count(address: string, n = 1): void {
    const entry = this.#window.counts.get(address);
    if (entry !== undefined) entry.n += n;
    else this.#window.counts.set(address, { n });
  }

  /** Refusals counted and not yet written. */
  pending(): number {
    let total = this.#window.overflow;
    for (const entry of this.#window.counts.values()) total += entry.n;
    return total;
  }

  /**
   * Writes one row per address counted since the last flush (flushes never overlap).
   * @returns the number of rows written.
   */
  flush(): Promise<number> {
    this.#flushing = this.#flushing.then(
      () => this.#write(),
      () => this.#write(),
    );
    return this.#flushing;
  }

  /** Flushes every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.options.onFlushError?.(err));
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval and writes what is left (shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #newWindow(): Window {
    const window: Window = {
      overflow: 0,
      since: this.options.clock.now(),
      counts: new LRUCache({
        max: this.#maxAddresses,
        // An address pushed out of the bound still counts, in the shared row.
        dispose: (value, _key, reason) => {
          if (reason === 'evict') window.overflow += value.n;
        },
      }),
    };
    return window;
  }

  async #write(): Promise<number> {
    const window = this.#window;
    this.#window = this.#newWindow();
    const rows: [string, number][] = [...window.counts.entries()].map(([a, e]) => [a, e.n]);
    if (window.overflow > 0) rows.push([OTHER_ADDRESSES, window.overflow]);
    const since = new Date(window.since).toISOString();
    let written = 0;
    try {
      for (const [address, n] of rows) {
        await this.options.audit.append({
          actor: 'anonymous',
          action: THROTTLED_ACTION,
          target: `addr=${address} count=${n} since=${since}`,
          outcome: 'denied',
          reason: 'ERR_REQUEST_RATE_LIMITED',
        });
        written += 1;
      }
    } catch (err) {
      // Keep what was not written for the next flush: the count must not be lost.
      this.#window.since = window.since;
      for (const [address, n] of rows.slice(written)) {
        if (address === OTHER_ADDRESSES) this.#window.overflow += n;
        else this.count(address, n);
      }
      throw err;
    }
    return written;
  }
}
