// Strangers' refusals counted, not logged one by one: a bounded number of audit rows per interval.
import { LRUCache } from 'lru-cache';
import type { AuditLog, NamedAuditAction } from '../audit/index.js';
import type { Clock } from '../clock/index.js';

/** The audit action of an aggregated row. */
export const THROTTLED_ACTION: NamedAuditAction = 'http.preauth.throttled';

/** Target of the row that sums the addresses beyond the per-interval bound. */
export const OTHER_ADDRESSES = '*';

/** The reason of a refusal by the pre-authentication limit itself. */
const RATE_LIMITED = 'ERR_REQUEST_RATE_LIMITED';

/** Default of {@link ThrottleTallyOptions.maxRowsPerInterval}. */
export const DEFAULT_ANONYMOUS_ROWS_PER_INTERVAL = 500;

/** Options of {@link ThrottleTally}. */
export interface ThrottleTallyOptions {
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Addresses given their own row per interval; the rest share one `addr=*` row. Default 1,024. */
  readonly maxAddresses?: number;
  /**
   * Refusals of unauthenticated callers written as a row each per interval, over all
   * addresses (`HALLMARK_PREAUTH_AUDIT_ROWS`); beyond it they are counted here instead.
   */
  readonly maxRowsPerInterval?: number;
  /** Told when a flush could not write its rows (they are kept for the next one). */
  readonly onFlushError?: (err: unknown) => void;
}

interface Counted {
  readonly address: string;
  /** The error code the caller was answered with (the row's reason). */
  readonly code: string;
  n: number;
}

interface Window {
  /** By address and code. */
  counts: LRUCache<string, Counted>;
  /** By code: refusals of addresses pushed out of `counts`. */
  overflow: Map<string, number>;
  since: number;
  /** Rows of their own granted in this window ({@link ThrottleTally.admitRow}). */
  rows: number;
}

/**
 * Counts refusals of callers that have not authenticated, per source address and error code:
 * those the pre-authentication limit throttled, and every other one once the interval's
 * budget of individual rows is spent (so a flood from many addresses, each under its own
 * limit, cannot fill the audit table either). A flush writes at most `maxAddresses` rows plus
 * one `addr=*` row per code (`http.preauth.throttled`, target
 * `addr=<address> count=<n> since=<ISO time>`, reason the code). No refusal goes uncounted.
 */
export class ThrottleTally {
  readonly #maxAddresses: number;
  readonly #maxRows: number;
  #window: Window;
  #flushing: Promise<number> = Promise.resolve(0);
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ThrottleTallyOptions) {
    this.#maxAddresses = options.maxAddresses ?? 1024;
    this.#maxRows = options.maxRowsPerInterval ?? DEFAULT_ANONYMOUS_ROWS_PER_INTERVAL;
    this.#window = this.#newWindow();
  }

  /** Counts `n` refusals of `address`, answered with `code` (the limit's own by default). */
  count(address: string, n = 1, code: string = RATE_LIMITED): void {
    this.#add(this.#window, address, code, n);
  }

  /**
   * Grants an unauthenticated refusal a row of its own if this interval's budget allows;
   * false means the caller must {@link count} it instead.
   */
  admitRow(): boolean {
    if (this.#window.rows >= this.#maxRows) return false;
    this.#window.rows += 1;
    return true;
  }

  /** Refusals counted and not yet written. */
  pending(): number {
    let total = 0;
    for (const n of this.#window.overflow.values()) total += n;
    for (const entry of this.#window.counts.values()) total += entry.n;
    return total;
  }

  /**
   * Writes one row per address and code counted since the last flush, and starts a new
   * interval (flushes never overlap).
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

  #add(window: Window, address: string, code: string, n: number): void {
    if (address === OTHER_ADDRESSES) {
      window.overflow.set(code, (window.overflow.get(code) ?? 0) + n);
      return;
    }
    const key = `${code} ${address}`;
    const entry = window.counts.get(key);
    if (entry !== undefined) entry.n += n;
    else window.counts.set(key, { address, code, n });
  }

  #newWindow(): Window {
    const window: Window = {
      overflow: new Map(),
      since: this.options.clock.now(),
      rows: 0,
      counts: new LRUCache({
        max: this.#maxAddresses,
        // An address pushed out of the bound still counts, in the shared row.
        dispose: (value, _key, reason) => {
          if (reason === 'evict') this.#add(window, OTHER_ADDRESSES, value.code, value.n);
        },
      }),
    };
    return window;
  }

  async #write(): Promise<number> {
    const window = this.#window;
    this.#window = this.#newWindow();
    const rows: Counted[] = [...window.counts.values()].map((entry) => ({ ...entry }));
    for (const [code, n] of window.overflow) rows.push({ address: OTHER_ADDRESSES, code, n });
    const since = new Date(window.since).toISOString();
    let written = 0;
    try {
      for (const { address, code, n } of rows) {
        await this.options.audit.append({
          actor: 'anonymous',
          action: THROTTLED_ACTION,
          target: `addr=${address} count=${n} since=${since}`,
          outcome: 'denied',
          reason: code,
        });
        written += 1;
      }
    } catch (err) {
      // Keep what was not written for the next flush: the count must not be lost.
      this.#window.since = window.since;
      for (const { address, code, n } of rows.slice(written))
        this.#add(this.#window, address, code, n);
      throw err;
    }
    return written;
  }
}
