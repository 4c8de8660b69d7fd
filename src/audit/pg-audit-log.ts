// The PostgreSQL audit log: group-committed appends that extend one chain across replicas.
import type { Clock } from '../clock/index.js';
import { preparedStatement, type Database, type Queryable } from '../db/index.js';
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
 * Group commit: appends that arrive while a write is in flight wait and are written together by
 * the next one. The chain is extended under the lock of its one head row: a batch is linked to
 * the head this process last wrote and stored by a single statement that moves the head only if
 * it is still there, so a lone server commits each batch in one round trip. When another server
 * moved the head in between, nothing is written and the batch is linked again inside a
 * transaction that holds the head row's lock, so any number of server processes produce one
 * unbroken chain. Every promise resolves only after its row's COMMIT.
 */
export class PgAuditLog implements AuditLog {
  readonly #queue: Pending[] = [];
  #flushing = false;
  /** The head as this process last committed it; unknown until the first write. */
  #head: ChainHead | undefined;

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
          records = await this.#write(batch);
        } catch (cause) {
          this.#head = undefined;
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

  async #write(batch: Pending[]): Promise<AuditRecord[]> {
    if (this.#head !== undefined) {
      const records = linkBatch(this.#head, batch);
      if (await storeIfHeadUnchanged(this.db, this.#head, records)) {
        this.#head = headOf(records);
        return records;
      }
    }
    const records = await this.db.transaction(async (client) => {
      const head = await lockHead(client);
      const linked = linkBatch(head, batch);
      if (!(await storeIfHeadUnchanged(client, head, linked)))
        throw new HallmarkError('ERR_INTERNAL', { detail: 'audit head moved while locked' });
      return linked;
    });
    this.#head = headOf(records);
    return records;
  }
}

interface ChainHead {
  seq: number;
  hash: string;
}

function linkBatch(head: ChainHead, batch: Pending[]): AuditRecord[] {
  let prev = head;
  return batch.map((pending) => (prev = nextRecord(prev, pending.event, pending.time)));
}

function headOf(records: AuditRecord[]): ChainHead {
  const last = records.at(-1) as AuditRecord;
  return { seq: last.seq, hash: last.hash };
}

/**
 * Takes the head row's lock until COMMIT and reads it. An empty chain gets its genesis head
 * row here first; it is committed only together with the batch that moves it.
 */
async function lockHead(client: Queryable): Promise<ChainHead> {
  await client.query(
    'INSERT INTO audit_head (id, seq, hash) VALUES (true, 0, $1) ON CONFLICT (id) DO NOTHING',
    [GENESIS_HASH],
  );
  const head = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM audit_head FOR UPDATE',
  );
  const row = head.rows[0] as { seq: string; hash: string };
  return { seq: Number(row.seq), hash: row.hash };
}

const STORE_IF_HEAD_UNCHANGED = preparedStatement(
  'audit-store-if-head-unchanged',
  `WITH moved AS (
     UPDATE audit_head SET seq = $11, hash = $12 WHERE seq = $13 AND hash = $14 RETURNING 1
   )
   INSERT INTO audit_log (seq, time, actor, action, target, outcome, reason, request_id, prev_hash, hash)
   SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                        $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
    WHERE EXISTS (SELECT 1 FROM moved)`,
);

/**
 * One statement: moves the head from `head` to the batch's last row and inserts the rows, or
 * does neither when the head is no longer `head` (the UPDATE waits for a concurrent writer's
 * row lock and then re-checks its condition against the committed row). True when written.
 */
async function storeIfHeadUnchanged(
  db: Queryable,
  head: ChainHead,
  records: AuditRecord[],
): Promise<boolean> {
  const column = <K extends keyof AuditRecord>(key: K): AuditRecord[K][] =>
    records.map((r) => r[key]);
  const last = headOf(records);
  const result = await db.query(
    STORE_IF_HEAD_UNCHANGED([
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
      last.seq,
      last.hash,
      head.seq,
      head.hash,
    ]),
  );
  return result.rowCount === records.length;
}
