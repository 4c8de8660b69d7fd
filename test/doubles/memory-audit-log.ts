// An in-memory audit log for unit tests of code that audits.
import type pg from 'pg';
import { eventList } from '../../src/audit/audit-log.js';
import {
  GENESIS_HASH,
  nextRecord,
  type AuditEvent,
  type AuditLog,
  type AuditRecord,
  type BatchedChange,
} from '../../src/audit/index.js';
import type { Clock } from '../../src/clock/index.js';
import type { Queryable } from '../../src/db/index.js';
import { HallmarkError } from '../../src/errors/index.js';

/**
 * Keeps the chain in an array; `failing = true` makes every write fail like a dead database.
 * There is no transaction here: a staged row joins the chain at once, rolled back or not, so
 * use it only where no transaction can roll back.
 */
export class MemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  failing = false;

  constructor(private readonly clock: Clock) {}

  async append(event: AuditEvent): Promise<AuditRecord> {
    if (this.failing)
      throw new HallmarkError('ERR_AUDIT_UNAVAILABLE', { detail: 'memory audit log set to fail' });
    const last = this.records.at(-1) ?? { seq: 0, hash: GENESIS_HASH };
    const record = nextRecord(last, event, new Date(this.clock.now()).toISOString());
    this.records.push(record);
    return record;
  }

  /** There is no database here for the change: only its row is kept. */
  async appendWith<T>(_change: BatchedChange<T>, event: AuditEvent): Promise<AuditRecord> {
    return this.append(event);
  }

  async stage(_tx: Queryable, events: AuditEvent | readonly AuditEvent[]): Promise<void> {
    for (const event of eventList(events)) await this.append(event);
  }

  async stageWith<R extends pg.QueryResultRow>(
    db: Queryable,
    change: pg.QueryConfig,
    events: AuditEvent | readonly AuditEvent[],
  ): Promise<pg.QueryResult<R>> {
    if (this.failing)
      throw new HallmarkError('ERR_AUDIT_UNAVAILABLE', { detail: 'memory audit log set to fail' });
    const result = await db.query<R>(change);
    if (result.rows.length > 0) await this.stage(db, events);
    return result;
  }

  async settle(): Promise<void> {}
}
