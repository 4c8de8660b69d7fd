// The PostgreSQL audit log: changes stage rows in their transaction; one extender links them in.
import type pg from 'pg';
import type { Clock } from '../clock/index.js';
import type { Database, Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import { eventList, type AuditLog, type AuditSink, type BatchedChange } from './audit-log.js';
import { nextRecord, type AuditEvent, type AuditRecord } from './audit-record.js';
import {
  lockHead,
  readStaged,
  stagedWithStatement,
  stageStatement,
  storeIfHeadUnchanged,
  type ChainHead,
  type StagedRow,
} from './chain-store.js';
import { isDatabaseFault, stageFailure } from './stage-failure.js';

interface Pending {
  event: AuditEvent;
  time: string;
  /** Written in the same transaction as the row ({@link PgAuditLog.appendWith}). */
  change?: BatchedChange<unknown>;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Upper bound on rows per transaction, so one slow batch cannot grow without limit. */
const MAX_BATCH = 1_000;

/** How often a replica looks for rows other replicas staged but did not chain (e.g. crashed). */
export const DEFAULT_STAGED_POLL_MS = 1_000;

/**
 * The chain extender: one drain loop per process writes, each time it is woken, a batch made
 * of the oldest staged rows (if asked to look: after a local transaction that staged a row
 * committed, on the poll, on {@link settle}) followed by the queued {@link append}s and
 * {@link appendWith}s. The batch is linked to the head this process last wrote and stored by
 * one statement that also deletes the staged rows and moves the head only if it is still there,
 * so a lone server chains each batch of appends in one round trip (two when staged rows are
 * read; a batch carrying changes is BEGIN, that statement, one per kind of change, COMMIT). The
 * changes handed over with {@link appendWith} are written after that statement in the same
 * transaction, one statement per kind of change, so a batch of SVID issuances is one COMMIT.
 * When another server moved the head in between, nothing is written and the batch is linked
 * again inside a transaction that holds the head row's lock, so any number of server processes
 * produce one unbroken chain and chain each other's staged rows. Every {@link append} and
 * {@link appendWith} resolves only after its row's COMMIT.
 */
export class PgAuditLog implements AuditLog {
  readonly #queue: Pending[] = [];
  readonly #stagedWaiters: Waiter[] = [];
  #lookForStaged = false;
  #draining = false;
  readonly #idle: (() => void)[] = [];
  /** The head as this process last committed it; unknown until the first write. */
  #head: ChainHead | undefined;
  #poll: NodeJS.Timeout | undefined;
  /** How many entries at the front of the queue are written alone (after a failed batch). */
  #alone = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly sink: AuditSink = () => undefined,
  ) {}

  append(event: AuditEvent): Promise<AuditRecord> {
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#queue.push({ event, time: this.#now(), resolve, reject });
      this.#kick();
    });
  }

  appendWith<T>(change: BatchedChange<T>, event: AuditEvent): Promise<AuditRecord> {
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#queue.push({
        event,
        time: this.#now(),
        change: change as BatchedChange<unknown>,
        resolve,
        reject,
      });
      this.#kick();
    });
  }

  async stage(tx: Queryable, events: AuditEvent | readonly AuditEvent[]): Promise<void> {
    try {
      await tx.query(stageStatement(eventList(events), this.#now()));
    } catch (cause) {
      throw stageFailure(cause);
    }
    this.db.afterCommit(tx, () => this.#wakeForStaged());
  }

  async stageWith<R extends pg.QueryResultRow>(
    db: Queryable,
    change: pg.QueryConfig,
    events: AuditEvent | readonly AuditEvent[],
  ): Promise<pg.QueryResult<R>> {
    let result: pg.QueryResult<R>;
    try {
      result = await db.query<R>(stagedWithStatement(change, eventList(events), this.#now()));
    } catch (cause) {
      throw stageFailure(cause);
    }
    this.db.afterCommit(db, () => this.#wakeForStaged());
    return result;
  }

  settle(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#stagedWaiters.push({ resolve, reject });
      this.#wakeForStaged();
    });
  }

  /** Starts looking for other replicas' staged rows every `pollMs`. */
  start(pollMs = DEFAULT_STAGED_POLL_MS): void {
    if (this.#poll !== undefined) return;
    this.#poll = setInterval(() => this.#wakeForStaged(), pollMs);
    this.#poll.unref();
  }

  /**
   * Stops the poll and waits for the batch in flight (call before closing the database). Rows
   * this process staged are already being chained: each commit woke the extender, whose loop
   * runs until no one asked it to look again.
   */
  async stop(): Promise<void> {
    if (this.#poll !== undefined) clearInterval(this.#poll);
    this.#poll = undefined;
    if (this.#draining) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  #wakeForStaged(): void {
    this.#lookForStaged = true;
    this.#kick();
  }

  #kick(): void {
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0 || this.#lookForStaged) {
        // Entries written again alone (after a failed batch) are written without staged rows,
        // so that a wrong entry fails its own request and nothing else.
        const alone = this.#alone > 0;
        if (alone) this.#alone -= 1;
        // Whoever asked to look is answered by a read that starts after they asked.
        const look = !alone && this.#lookForStaged;
        if (look) this.#lookForStaged = false;
        const waiters = look ? this.#stagedWaiters.splice(0) : [];
        const batch = this.#queue.splice(0, alone ? 1 : MAX_BATCH);
        let written: Written;
        try {
          written = await this.#write(batch, look);
        } catch (cause) {
          this.#head = undefined;
          if (!alone && batch.length > 0 && !isDatabaseFault(cause)) {
            // An entry (or a change) was wrong, not the database: write the entries again one
            // at a time, so that only the wrong one's request fails.
            this.#queue.unshift(...batch);
            this.#alone += batch.length;
            this.#lookForStaged ||= look;
            this.#stagedWaiters.unshift(...waiters);
            continue;
          }
          const err = new HallmarkError('ERR_AUDIT_UNAVAILABLE', {
            cause,
            detail: (cause as Error).message,
          });
          for (const pending of batch) pending.reject(pending.change ? stageFailure(cause) : err);
          for (const waiter of waiters) waiter.reject(err);
          continue;
        }
        const { records, staged } = written;
        batch.forEach((pending, i) => pending.resolve(records[staged + i] as AuditRecord));
        for (const record of records) this.sink(record);
        if (staged === MAX_BATCH) {
          // More may be staged: those waiting are answered once the rest is chained too.
          this.#lookForStaged = true;
          this.#stagedWaiters.unshift(...waiters);
        } else {
          for (const waiter of waiters) waiter.resolve();
        }
      }
    } finally {
      this.#draining = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #write(batch: Pending[], look: boolean): Promise<Written> {
    if (this.#head !== undefined) {
      const staged = look ? await readStaged(this.db, MAX_BATCH) : [];
      if (staged.length + batch.length === 0) return { records: [], staged: 0 };
      const head = this.#head;
      const records = linkBatch(head, staged, batch);
      const stagedIds = idsOf(staged);
      const stored = batch.some((p) => p.change)
        ? await this.db.transaction(async (tx) => {
            // The head first, as every writer: its lock orders the changes' row locks.
            if (!(await storeIfHeadUnchanged(tx, head, records, stagedIds))) return false;
            await writeChanges(tx, batch);
            return true;
          })
        : await storeIfHeadUnchanged(this.db, head, records, stagedIds);
      if (stored) {
        this.#head = headOf(records);
        return { records, staged: staged.length };
      }
    }
    const written = await this.db.transaction(async (client) => {
      const head = await lockHead(client);
      // Under the head's lock no other extender can chain these rows before we do.
      const staged = look ? await readStaged(client, MAX_BATCH) : [];
      const records = linkBatch(head, staged, batch);
      if (records.length === 0) return { head, records, staged: 0 };
      if (!(await storeIfHeadUnchanged(client, head, records, idsOf(staged))))
        throw new HallmarkError('ERR_INTERNAL', { detail: 'audit head moved while locked' });
      await writeChanges(client, batch);
      return { head: headOf(records), records, staged: staged.length };
    });
    this.#head = written.head;
    return written;
  }
}

interface Written {
  records: AuditRecord[];
  /** How many of `records` (the first ones) came from staged rows. */
  staged: number;
}

/** Staged rows first (oldest id first), then the queued appends; seq is assigned here. */
function linkBatch(
  head: ChainHead,
  staged: readonly StagedRow[],
  batch: readonly Pending[],
): AuditRecord[] {
  let prev = head;
  const records: AuditRecord[] = [];
  for (const row of staged) records.push((prev = nextRecord(prev, row.event, row.time)));
  for (const pending of batch) records.push((prev = nextRecord(prev, pending.event, pending.time)));
  return records;
}

/**
 * The batch's changes, one statement per kind of change. Each must write every row it was
 * given: a row for a change that did not happen would otherwise commit.
 */
async function writeChanges(tx: Queryable, batch: readonly Pending[]): Promise<void> {
  const kinds = new Map<BatchedChange<unknown>['statement'], unknown[]>();
  for (const { change } of batch) {
    if (change === undefined) continue;
    const rows = kinds.get(change.statement);
    if (rows === undefined) kinds.set(change.statement, [change.row]);
    else rows.push(change.row);
  }
  for (const [statement, rows] of kinds) {
    const result = await tx.query(statement(rows));
    if (result.rowCount !== rows.length) {
      throw new HallmarkError('ERR_INTERNAL', {
        detail: `a batched change wrote ${result.rowCount ?? 0} of ${rows.length} rows`,
      });
    }
  }
}

function idsOf(staged: readonly StagedRow[]): string[] {
  return staged.map((row) => row.id);
}

function headOf(records: AuditRecord[]): ChainHead {
  const last = records.at(-1) as AuditRecord;
  return { seq: last.seq, hash: last.hash };
}
