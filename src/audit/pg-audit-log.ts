// The PostgreSQL audit log: group-committed appends that extend one chain across replicas.
import type { Clock } from '../clock/index.js';
import { ADVISORY_LOCKS, type Database, type Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import type { AuditLog, AuditSink } from './audit-log.js';
import { GENESIS_HASH, nextRecord, type AuditEvent, type AuditRecord } from './audit-record.js';

interface Pending {
  event: AuditEvent;
  time: string;
  resolve: (record: AuditRecord) => void;
  reject: (err: unknown) => void;
}

/** Upper bound on rows per transaction, so one slow batch cannot grow without limit. */
const MAX_BATCH = 1_000;

/**
 * Group commit: appends that arrive while a transaction is in flight wait and are written
 * together by the next one. Each transaction takes the chain's advisory lock, reads the head,
 * links its rows in arrival order and moves the head, so any number of server processes
 * produce one unbroken chain. Every promise resolves only after its row's COMMIT.
 */
export class PgAuditLog implements AuditLog {
  readonly #queue: Pending[] = [];
  #flushing = false;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly sink: AuditSink = () => undefined,
  ) {}

  append(event: AuditEvent): Promise<AuditRecord> {
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#queue.push({ event, time: new Date(this.clock.now()).toISOString(), resolve, reject });
      if (!this.#flushing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        let records: AuditRecord[];
        try {
          records = await this.db.transaction((client) => writeBatch(client, batch));
        } catch (cause) {
          const err = new HallmarkError('ERR_AUDIT_UNAVAILABLE', {
            cause,
            detail: (cause as Error).message,
          });
          for (const pending of batch) pending.reject(err);
          continue;
        }
        batch.forEach((pending, i) => pending.resolve(records[i] as AuditRecord));
        for (const record of records) this.sink(record);
      }
    } finally {
      this.#flushing = false;
    }
  }
}

async function writeBatch(client: Queryable, batch: Pending[]): Promise<AuditRecord[]> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.auditChain]);
  const head = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_head',
  );
  let prev = head.rows[0]
    ? { seq: Number(head.rows[0].seq), hash: head.rows[0].hash }
    : { seq: 0, hash: GENESIS_HASH };
  const records = batch.map((pending) => (prev = nextRecord(prev, pending.event, pending.time)));
  const column = <K extends keyof AuditRecord>(key: K): AuditRecord[K][] =>
    records.map((r) => r[key]);
  await client.query(
    `INSERT INTO audit_log (seq, time, actor, action, target, outcome, reason, request_id, prev_hash, hash)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
                          $7::text[], $8::text[], $9::text[], $10::text[])`,
    [
      column('seq'),
      column('time'),
      column('actor'),
      column('action'),
      column('target'),
      column('outcome'),
      column('reason'),
      column('requestId'),
      column('prevHash'),
      column('hash'),
    ],
  );
  await client.query(
    `INSERT INTO audit_head (id, seq, hash) VALUES (true, $1, $2)
     ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
    [prev.seq, prev.hash],
  );
  return records;
}
