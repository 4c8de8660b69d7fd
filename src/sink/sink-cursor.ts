// A sink's persisted cursors and what it has left to send: rows of audit_log and checkpoints after them.
import { auditHeadSeq, oldestAuditSeq, readAuditPage } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import type { SinkItem } from './sink-item.js';

/** How far a sink's receiver has confirmed: the last row's seq, and the last checkpoint's. */
export interface SinkPosition {
  readonly rows: number;
  readonly checkpoints: number;
}

/**
 * The sink's cursors, created on first use: rows just before the oldest row still stored (a
 * new sink delivers the whole retained chain; an archived prefix is not a gap), checkpoints at
 * 0 (every stored checkpoint, which the retention keeps from the retained chain's start on).
 */
export async function loadCursor(db: Queryable, sink: string, now: Date): Promise<SinkPosition> {
  const oldest = await oldestAuditSeq(db);
  await db.query(
    `INSERT INTO audit_sink_cursors (sink, seq, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (sink) DO NOTHING`,
    [sink, oldest === undefined ? 0 : oldest - 1, now],
  );
  await db.query(
    `INSERT INTO audit_sink_checkpoint_cursors (sink, seq, updated_at) VALUES ($1, 0, $2)
     ON CONFLICT (sink) DO NOTHING`,
    [sink, now],
  );
  const row = await db.query<{ rows: string; checkpoints: string }>(
    `SELECT r.seq AS rows, c.seq AS checkpoints
       FROM audit_sink_cursors r, audit_sink_checkpoint_cursors c
      WHERE r.sink = $1 AND c.sink = $1`,
    [sink],
  );
  return {
    rows: Number(row.rows[0]?.rows ?? 0),
    checkpoints: Number(row.rows[0]?.checkpoints ?? 0),
  };
}

/** Moves the cursors forward (never back: a stale sender cannot rewind them). */
export async function advanceCursor(
  db: Queryable,
  sink: string,
  to: SinkPosition,
  now: Date,
): Promise<void> {
  await db.query(
    'UPDATE audit_sink_cursors SET seq = $2, updated_at = $3 WHERE sink = $1 AND seq < $2',
    [sink, to.rows, now],
  );
  await db.query(
    'UPDATE audit_sink_checkpoint_cursors SET seq = $2, updated_at = $3 WHERE sink = $1 AND seq < $2',
    [sink, to.checkpoints, now],
  );
}

interface CheckpointRow {
  seq: string;
  hash: string;
  time: Date;
  kid: string;
  jws: string;
}

/**
 * Items not yet sent, in delivery order: up to `limit` rows after the row cursor, and the
 * checkpoints after the checkpoint cursor whose row is sent by then — a checkpoint goes right
 * after its row, or first when its row was already delivered before it was signed.
 */
export async function itemsAfter(
  db: Queryable,
  from: SinkPosition,
  limit: number,
): Promise<SinkItem[]> {
  const rows = await readAuditPage(db, from.rows, limit);
  const upTo = Math.max(from.rows, rows.at(-1)?.seq ?? 0);
  const checkpoints = await db.query<CheckpointRow>(
    `SELECT seq, hash, time, kid, jws FROM audit_checkpoints
      WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
    [from.checkpoints, upTo, limit],
  );
  const items: SinkItem[] = rows.map((record) => ({ kind: 'record', seq: record.seq, record }));
  for (const row of checkpoints.rows) {
    const seq = Number(row.seq);
    const item: SinkItem = {
      kind: 'checkpoint',
      seq,
      hash: row.hash,
      time: row.time.toISOString(),
      keyId: row.kid,
      signature: row.jws,
    };
    // After its row when the row is in this batch, else ahead of every row (already delivered).
    const at = items.findIndex((other) => other.kind === 'record' && other.seq > seq);
    if (at === -1) items.push(item);
    else items.splice(at, 0, item);
  }
  return items;
}

/** Where a sink stands once `items` are confirmed. */
export function positionAfter(from: SinkPosition, items: readonly SinkItem[]): SinkPosition {
  let { rows, checkpoints } = from;
  for (const item of items) {
    if (item.kind === 'record') rows = Math.max(rows, item.seq);
    else checkpoints = Math.max(checkpoints, item.seq);
  }
  return { rows, checkpoints };
}

/** Rows the sink is behind: the chain head minus its cursor (0 when it has none yet). */
export async function lagOf(db: Queryable, sink: string): Promise<number> {
  const cursor = await db.query<{ seq: string }>(
    'SELECT seq FROM audit_sink_cursors WHERE sink = $1',
    [sink],
  );
  const seq = cursor.rows[0]?.seq;
  if (seq === undefined) return 0;
  return Math.max(0, (await auditHeadSeq(db)) - Number(seq));
}
