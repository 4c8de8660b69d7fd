// An in-memory audit log for unit tests of code that audits.
import type { Clock } from '../clock/index.js';
import { HallmarkError } from '../errors/index.js';
import type { AuditLog } from './audit-log.js';
import { GENESIS_HASH, nextRecord, type AuditEvent, type AuditRecord } from './audit-record.js';

/** Keeps the chain in an array; `failing = true` makes appends fail like a dead database. */
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
}
