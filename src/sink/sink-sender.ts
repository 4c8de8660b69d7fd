// One sink's sender: on the replica holding its lock, delivers rows after its cursor, in order, at least once.
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { Queryable } from '../db/index.js';
import {
  advanceCursor,
  itemsAfter,
  lagOf,
  loadCursor,
  positionAfter,
  type SinkPosition,
} from './sink-cursor.js';
import type { SinkItem } from './sink-item.js';
import type { SinkMetrics } from './sink-metrics.js';
import type { SinkConnection, SinkTransport } from './sink-transport.js';

/** Minimal logger (pino-compatible). */
export interface SinkLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** The lock that makes this replica the sink's one sender; its statements fail once lost. */
export interface SenderLock extends Queryable {
  readonly lost: boolean;
  release(): Promise<void>;
}

/** Timing of a sender; the defaults suit production, tests shorten them. */
export interface SenderTiming {
  /** Rows read and sent at a time. */
  readonly batchRows: number;
  /** Longest a stream connection stays open before its receipt is confirmed (and cursor moved). */
  readonly confirmMs: number;
  /** Sleep between checks when idle and no NOTIFY came (a lost NOTIFY costs at most this). */
  readonly pollMs: number;
  /** Retry delay after a failure: doubles from min to max. */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** How often a replica without the lock tries to take it (and refreshes the lag gauge). */
  readonly lockRetryMs: number;
  /** An undelivered row older than this is an `audit.sink.lag` alarm (once per episode). */
  readonly lagAlarmMs: number;
}

/** Production timing. */
export const DEFAULT_TIMING: SenderTiming = {
  batchRows: 500,
  confirmMs: 1_000,
  pollMs: 1_000,
  retryMinMs: 250,
  retryMaxMs: 5_000,
  lockRetryMs: 5_000,
  lagAlarmMs: 5 * 60_000,
};

/** What a sender needs. */
export interface SinkSenderDeps {
  readonly db: Queryable;
  readonly transport: SinkTransport;
  /** Tries to take the sink's lock without waiting. */
  readonly acquire: () => Promise<SenderLock | undefined>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: SinkLogger;
  readonly metrics: SinkMetrics;
  readonly timing?: Partial<SenderTiming>;
}

/** Where a failure streak stands, for log lines that neither flood nor go quiet. */
interface Streak {
  failures: number;
  lastLoggedAt: number;
}

/**
 * Delivers the chain to one receiver. Only the replica holding the sink's lock sends; it reads
 * rows after the persisted cursor, sends them in seq order, and moves the cursor (on the lock's
 * own connection) only past rows the receiver confirmed — so after a receiver outage, a crash
 * or a takeover, sending resumes at the cursor and a row is duplicated at worst, never lost.
 * Nothing here is on a request's path: failures become a metric, a log line and a retry.
 */
export class SinkSender {
  readonly #deps: SinkSenderDeps;
  readonly #timing: SenderTiming;
  readonly #name: string;
  #lock: SenderLock | undefined;
  #connection: SinkConnection | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #streak: Streak = { failures: 0, lastLoggedAt: 0 };
  #lagAlarmed = false;
  #gapReportedTo = 0;

  constructor(deps: SinkSenderDeps) {
    this.#deps = deps;
    this.#timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.#name = deps.transport.name;
    deps.metrics.leader.set({ sink: this.#name }, 0);
  }

  /** Starts the loop in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** New rows may be there (NOTIFY, or a local append). */
  wake(): void {
    this.#wake?.();
  }

  /** Stops sending, drops the connection and releases the lock. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#connection?.destroy();
    this.wake();
    await this.#loop;
    await this.#lock?.release();
    this.#lock = undefined;
    this.#deps.metrics.leader.set({ sink: this.#name }, 0);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (this.#lock === undefined || this.#lock.lost) {
        await this.#lead();
        continue;
      }
      try {
        await this.#deliverOnce(this.#lock);
        if (this.#streak.failures > 0) {
          this.#deps.log.info({ sink: this.#name }, 'audit sink delivering again');
          this.#streak = { failures: 0, lastLoggedAt: 0 };
        }
      } catch (err) {
        this.#connection?.destroy();
        this.#connection = undefined;
        if (this.#stopped) break;
        this.#failed(err as Error);
        await this.#sleep(this.#retryDelay(), false);
      }
    }
  }

  /** Without the lock: try to take it, else refresh the lag gauge and wait. */
  async #lead(): Promise<void> {
    await this.#lock?.release();
    this.#lock = await this.#deps.acquire();
    this.#deps.metrics.leader.set({ sink: this.#name }, this.#lock ? 1 : 0);
    if (this.#lock) {
      this.#deps.log.info({ sink: this.#name }, 'audit sink sender started on this replica');
      return;
    }
    await this.#refreshLag();
    await this.#sleep(this.#timing.lockRetryMs);
  }

  async #refreshLag(): Promise<void> {
    try {
      this.#deps.metrics.lag.set({ sink: this.#name }, await lagOf(this.#deps.db, this.#name));
    } catch {
      // the database is down: keep the last value
    }
  }

  /** One window: read what is pending, send it on one connection, confirm, move the cursor. */
  async #deliverOnce(lock: SenderLock): Promise<void> {
    const now = (): Date => new Date(this.#deps.clock.now());
    const cursor = await loadCursor(lock, this.#name, now());
    let items = await itemsAfter(this.#deps.db, cursor, this.#timing.batchRows);
    await this.#checkLag(items);
    if (items.length === 0) {
      this.#deps.metrics.lag.set({ sink: this.#name }, await lagOf(this.#deps.db, this.#name));
      this.#lagAlarmed = false;
      await this.#sleep(this.#timing.pollMs);
      return;
    }
    this.#deps.metrics.lag.set({ sink: this.#name }, await lagOf(this.#deps.db, this.#name));
    const connection = await this.#deps.transport.open();
    this.#connection = connection;
    const openedAt = this.#deps.clock.now();
    let sent = cursor;
    let confirmed = cursor;
    for (;;) {
      await this.#checkGaps(sent.rows, items);
      await connection.send(items);
      sent = positionAfter(sent, items);
      if (connection.acknowledges) {
        await this.#confirm(lock, confirmed, sent, now());
        confirmed = sent;
      }
      const left = this.#timing.confirmMs - (this.#deps.clock.now() - openedAt);
      if (left <= 0 || this.#stopped) break;
      items = await itemsAfter(this.#deps.db, sent, this.#timing.batchRows);
      if (items.length === 0) {
        await this.#sleep(left);
        items = await itemsAfter(this.#deps.db, sent, this.#timing.batchRows);
        if (items.length === 0) break;
      }
    }
    await connection.finish();
    this.#connection = undefined;
    if (sent !== confirmed) await this.#confirm(lock, confirmed, sent, now());
  }

  async #confirm(lock: SenderLock, from: SinkPosition, to: SinkPosition, at: Date): Promise<void> {
    await advanceCursor(lock, this.#name, to, at);
    this.#deps.metrics.delivered.inc({ sink: this.#name }, to.rows - from.rows);
    this.#deps.metrics.lag.set({ sink: this.#name }, await lagOf(this.#deps.db, this.#name));
  }

  /** Rows missing between the cursor and what is stored (deleted or archived): one alarm row each. */
  async #checkGaps(after: number, items: readonly SinkItem[]): Promise<void> {
    let expected = after + 1;
    for (const item of items) {
      if (item.kind !== 'record') continue;
      if (item.seq > expected && item.seq - 1 > this.#gapReportedTo) {
        await this.#alarm(
          'audit.sink.gap',
          `sink=${this.#name} missing=${expected}-${item.seq - 1}`,
          'ERR_AUDIT_SINK_GAP',
        );
        this.#gapReportedTo = item.seq - 1;
      }
      expected = item.seq + 1;
    }
  }

  /** The oldest undelivered row waiting longer than the bound raises one alarm per episode. */
  async #checkLag(items: readonly SinkItem[]): Promise<void> {
    const oldest = items.find((item) => item.kind === 'record');
    if (oldest === undefined || oldest.kind !== 'record' || this.#lagAlarmed) return;
    const waited = this.#deps.clock.now() - Date.parse(oldest.record.time);
    if (waited < this.#timing.lagAlarmMs) return;
    const lag = await lagOf(this.#deps.db, this.#name);
    await this.#alarm(
      'audit.sink.lag',
      `sink=${this.#name} behind=${lag} oldest=${oldest.seq}`,
      'ERR_AUDIT_SINK_LAGGING',
    );
    this.#lagAlarmed = true;
  }

  async #alarm(
    action: 'audit.sink.gap' | 'audit.sink.lag',
    target: string,
    reason: string,
  ): Promise<void> {
    this.#deps.log.warn({ sink: this.#name, action, target }, 'audit sink alarm');
    await this.#deps.audit.append({ actor: 'system', action, target, outcome: 'error', reason });
  }

  #failed(err: Error): void {
    this.#deps.metrics.errors.inc({ sink: this.#name });
    this.#streak.failures += 1;
    const now = this.#deps.clock.now();
    if (this.#streak.failures === 1 || now - this.#streak.lastLoggedAt >= 60_000) {
      this.#streak.lastLoggedAt = now;
      this.#deps.log.warn(
        {
          sink: this.#name,
          err: err.message,
          code: (err as { code?: string }).code,
          failures: this.#streak.failures,
        },
        'audit sink cannot deliver; retrying',
      );
    }
  }

  #retryDelay(): number {
    const { retryMinMs, retryMaxMs } = this.#timing;
    return Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(this.#streak.failures - 1, 10));
  }

  /** Sleeps up to `ms`; {@link stop} ends it early, and so does {@link wake} when `wakeable`. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#wake === wake) this.#wake = undefined;
        resolve();
      };
      const wake = (): void => {
        if (wakeable || this.#stopped) done();
      };
      const timer = setTimeout(done, ms);
      this.#wake = wake;
    });
  }
}
