// A sink's persisted cursor and what it has left to send: the rows of audit_log after it.
import { readAuditPage } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import type { SinkItem } from './sink-item.js';

/**
 * The sink's cursor, created on first use just before the oldest row still stored (a new
 * sink delivers the whole retained chain; an archived prefix is not a gap).
 */
export async function loadCursor(db: Queryable, sink: string, now: Date): Promise<number> {
  await db.query(
    `INSERT INTO audit_sink_cursors (sink, seq, updated_at)
     SELECT $1, COALESCE((SELECT min(seq) - 1 FROM audit_log), 0), $2
     ON CONFLICT (sink) DO NOTHING`,
    [sink, now],
  );
  const row = await db.query<{ seq: string }>(
    'SELECT seq FROM audit_sink_cursors WHERE sink = $1',
    [sink],
  );
  return Number(row.rows[0]?.seq ?? 0);
}

/** Moves the cursor forward (never back: a stale sender cannot rewind it). */
export async function advanceCursor(
  db: Queryable,
  sink: string,
  seq: number,
  now: Date,
): Promise<void> {
  await db.query(
    'UPDATE audit_sink_cursors SET seq = $2, updated_at = $3 WHERE sink = $1 AND seq < $2',
    [sink, seq, now],
  );
}

/** Rows not yet sent, as sink items, oldest first. */
export async function itemsAfter(db: Queryable, seq: number, limit: number): Promise<SinkItem[]> {
  const rows = await readAuditPage(db, seq, limit);
  return rows.map((record) => ({ kind: 'record', seq: record.seq, record }));
}

/** Rows the sink is behind: the chain head minus its cursor (0 when it has none yet). */
export async function lagOf(db: Queryable, sink: string): Promise<number> {
  const result = await db.query<{ lag: string | null }>(
    `SELECT (SELECT seq FROM audit_head) - (SELECT seq FROM audit_sink_cursors WHERE sink = $1) AS lag`,
    [sink],
  );
  return Math.max(0, Number(result.rows[0]?.lag ?? 0));
}
