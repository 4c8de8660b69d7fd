// The audit retention policy, enforced: rows older than the online period are archived on a tick.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import type { Database } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { archiveDue, type ArchiveResult } from './audit-archive.js';
import type { CheckpointLogger } from './audit-checkpointer.js';

/** How often each replica looks for rows past the online period. */
export const DEFAULT_RETENTION_TICK_MS = 10 * 60_000;
/** Rows per segment (one transaction each): a backlog drains in several segments. */
export const DEFAULT_RETENTION_SEGMENT_ROWS = 100_000;
/** Segments one round writes at most, so a large backlog never holds a replica for long. */
const MAX_SEGMENTS_PER_ROUND = 20;

/** What the retention needs. */
export interface AuditRetentionDeps {
  readonly db: Database;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: CheckpointLogger;
  readonly metrics: Registry;
  /** `HALLMARK_AUDIT_ARCHIVE_DIR`, absolute. */
  readonly dir: string;
  /** `HALLMARK_AUDIT_RETENTION_ONLINE`, in ms. */
  readonly onlineMs: number;
  readonly segmentRows?: number;
}

/**
 * Every tick, one replica (the archive's advisory lock, tried, never waited for) archives the
 * checkpointed rows committed more than the online period ago, through the same step as
 * `hallmark audit archive`: segment written, read back and verified, then the rows deleted in
 * the transaction that stages its `audit.archived` row. A failure deletes nothing, is audited
 * (`audit.archive.denied`), logged and counted, and is retried next tick. Segments are never
 * deleted here: how long they are kept is the operator's (HALLMARK_AUDIT_ARCHIVE_RETENTION).
 */
export class AuditRetention {
  readonly #deps: AuditRetentionDeps;
  readonly #errors: Counter;
  readonly #archived: Gauge;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(deps: AuditRetentionDeps) {
    this.#deps = deps;
    this.#errors = new Counter({
      name: 'hallmark_audit_archive_errors_total',
      help: 'Automatic audit archive rounds that failed (nothing was deleted)',
      registers: [deps.metrics],
    });
    this.#archived = new Gauge({
      name: 'hallmark_audit_archived_seq',
      help: 'Last seq this replica archived automatically (0: none yet)',
      registers: [deps.metrics],
    });
  }

  /** Starts the ticker (unref'd: it never keeps the process alive). */
  start(tickMs = DEFAULT_RETENTION_TICK_MS): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), tickMs);
    this.#timer.unref();
  }

  /** Stops the ticker and waits for a round in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running.catch(() => undefined);
  }

  /**
   * One round: the segments archived (none when nothing is due or another replica archives).
   * Rejects with the failure when a segment could not be written; nothing was deleted then.
   */
  round(): Promise<readonly ArchiveResult[]> {
    const next = this.#running.catch(() => undefined).then(() => this.#round());
    this.#running = next;
    return next;
  }

  async #tick(): Promise<void> {
    try {
      await this.round();
    } catch (err) {
      this.#errors.inc();
      this.#deps.log.error(
        {
          code: err instanceof HallmarkError ? err.code : undefined,
          err: err instanceof HallmarkError ? (err.detail ?? err.message) : (err as Error).message,
        },
        'automatic audit archive failed; nothing deleted, retrying next tick',
      );
    }
  }

  async #round(): Promise<readonly ArchiveResult[]> {
    const { db, audit, clock, dir, onlineMs } = this.#deps;
    const segmentRows = this.#deps.segmentRows ?? DEFAULT_RETENTION_SEGMENT_ROWS;
    const done: ArchiveResult[] = [];
    for (let i = 0; i < MAX_SEGMENTS_PER_ROUND; i++) {
      const result = await archiveDue({
        db,
        audit,
        clock,
        dir,
        before: { time: clock.now() - onlineMs },
        actor: 'system',
        maxRows: segmentRows,
      });
      if (result === undefined) break;
      done.push(result);
      this.#archived.set(result.manifest.last);
      const { manifest } = result;
      this.#deps.log.info(
        { first: manifest.first, last: manifest.last, sha256: manifest.sha256 },
        'archived audit rows past the online retention',
      );
      for (const sink of result.sinksBehind) {
        this.#deps.log.warn(
          { sink: sink.sink, confirmed: sink.seq, archivedUpTo: manifest.last },
          'a sink had not confirmed rows now archived: it reports them as a gap (they are in the segment)',
        );
      }
    }
    return done;
  }
}
