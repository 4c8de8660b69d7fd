// The audit log port: every decision is recorded before its response is sent.
import type pg from 'pg';
import type { Queryable } from '../db/index.js';
import type { AuditEvent, AuditRecord } from './audit-record.js';

/**
 * Append-only, hash-chained audit log. Two ways in:
 *
 * - a decision that changes nothing (a refusal, a read, a login) is {@link append}ed: it
 *   resolves only after its row is committed to the chain;
 * - a state change {@link stage}s its row inside its own transaction, so the row commits
 *   exactly when the change does (no change without a row, no row for a change that did not
 *   happen); the row joins the chain moments later;
 * - a change that cannot conflict with any other (an insert under a fresh key, such as an
 *   SVID's issuance record) is handed over with its row ({@link appendWith}): the log commits
 *   it with the row, linked into the chain at once, in the transaction of its next batch.
 *
 * Every method rejects with `ERR_AUDIT_UNAVAILABLE` when the database could not store the row,
 * and callers then fail the request (fail closed: no audit row, no certificate, no secret). A
 * staging method whose change or row is itself wrong (a violated constraint of the change's
 * table, a defect) rejects with that error instead, which is not an outage to retry.
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
  /**
   * Stages the row (or rows, in one statement) in the transaction `tx` (a client
   * `Database.transaction` handed out). The transaction fails with it: the caller lets the
   * error roll the change back.
   */
  stage(tx: Queryable, events: AuditEvent | readonly AuditEvent[]): Promise<void>;
  /**
   * Runs `change`, a single INSERT, UPDATE or DELETE with RETURNING, and stages the row (or
   * rows) in the same statement if the change returned a row: one round trip, atomic even
   * outside a transaction. Resolves with the change's result.
   */
  stageWith<R extends pg.QueryResultRow>(
    db: Queryable,
    change: pg.QueryConfig,
    events: AuditEvent | readonly AuditEvent[],
  ): Promise<pg.QueryResult<R>>;
  /**
   * Writes `change` and the row of `event` in one transaction together with the other changes
   * and rows queued meanwhile (a group commit: one COMMIT for all of them), the row linked into
   * the chain there and then. Resolves with the record after that COMMIT. A change that fails
   * fails only its own request: its batch is written again one change at a time.
   */
  appendWith<T>(change: BatchedChange<T>, event: AuditEvent): Promise<AuditRecord>;
  /** Resolves once every row staged and committed before the call is in the chain. */
  settle(): Promise<void>;
}

/**
 * A change {@link AuditLog.appendWith} writes in its batch's transaction. The changes of one
 * batch that share `statement` are written by one call of it, so `statement` must write every
 * row it is given in one statement (an `INSERT … SELECT … FROM unnest(…)`); a statement that
 * writes fewer rows than it was given fails the batch.
 */
export interface BatchedChange<T> {
  statement(rows: readonly T[]): pg.QueryConfig;
  readonly row: T;
}

/** One event or several, as the staging methods take them. */
export function eventList(events: AuditEvent | readonly AuditEvent[]): readonly AuditEvent[] {
  return 'actor' in events ? [events] : events;
}

/** Receives each record as it joins the chain (the server writes it as one JSON line on stdout). */
export type AuditSink = (record: AuditRecord) => void;
