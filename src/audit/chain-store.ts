// The audit tables in SQL: staging a change's row, reading staged rows, and moving the chain's head.
import type pg from 'pg';
import { preparedStatement, type Queryable } from '../db/index.js';
import {
  GENESIS_HASH,
  type AuditEvent,
  type AuditRecord,
  type StoredEvent,
} from './audit-record.js';

/** The newest row of the chain: seq 0 and the genesis hash while it is empty. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** A row a change staged (migration 008), waiting to be linked into the chain. */
export interface StagedRow {
  readonly id: string;
  readonly time: string;
  readonly event: Required<StoredEvent>;
}

const STAGE_COLUMNS = 'time, actor, action, target, outcome, reason, request_id';

/** The staged rows' columns as arrays, in {@link STAGE_COLUMNS} order. */
function stageValues(events: readonly AuditEvent[], time: string): unknown[] {
  return [
    events.map(() => time),
    events.map((e) => e.actor),
    events.map((e) => e.action),
    events.map((e) => e.target),
    events.map((e) => e.outcome),
    events.map((e) => e.reason ?? ''),
    events.map((e) => e.requestId ?? ''),
  ];
}

/** `unnest($first::timestamptz[], $first+1::text[], …)`: one row per event. */
function stageRows(first: number): string {
  const arrays = ['timestamptz', 'text', 'text', 'text', 'text', 'text', 'text'].map(
    (type, i) => `$${first + i}::${type}[]`,
  );
  return `unnest(${arrays.join(', ')})`;
}

const STAGE = preparedStatement(
  'audit-stage',
  `INSERT INTO audit_pending (${STAGE_COLUMNS}) SELECT * FROM ${stageRows(1)}`,
);

/** The statement that stages `events` on their own, in one round trip. */
export function stageStatement(events: readonly AuditEvent[], time: string): pg.QueryConfig {
  return STAGE(stageValues(events, time));
}

/**
 * One statement that runs `change` (a single INSERT, UPDATE or DELETE with RETURNING) and
 * stages `events` if the change returned a row; it answers with the change's rows. Both
 * commit, or neither does, even outside a transaction.
 */
export function stagedWithStatement(
  change: pg.QueryConfig,
  events: readonly AuditEvent[],
  time: string,
): pg.QueryConfig {
  const values = change.values ?? [];
  const text = `WITH change AS (${change.text}),
    staged AS (
      INSERT INTO audit_pending (${STAGE_COLUMNS})
      SELECT * FROM ${stageRows(values.length + 1)} WHERE EXISTS (SELECT 1 FROM change)
    )
    SELECT * FROM change`;
  return {
    ...(change.name === undefined ? {} : { name: `${change.name}+audit-stage` }),
    text,
    values: [...values, ...stageValues(events, time)],
  };
}

interface StagedDbRow {
  id: string;
  time: Date;
  actor: string;
  action: string;
  target: string;
  outcome: AuditEvent['outcome'];
  reason: string;
  request_id: string;
}

const READ_STAGED = preparedStatement(
  'audit-read-staged',
  `SELECT id, ${STAGE_COLUMNS} FROM audit_pending ORDER BY id LIMIT $1`,
);

/** The oldest `limit` staged rows (committed ones only, as every read sees). */
export async function readStaged(db: Queryable, limit: number): Promise<StagedRow[]> {
  const result = await db.query<StagedDbRow>(READ_STAGED([limit]));
  return result.rows.map((row) => ({
    id: row.id,
    time: row.time.toISOString(),
    event: {
      actor: row.actor,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      reason: row.reason,
      requestId: row.request_id,
    },
  }));
}

/**
 * Deletes the chained rows up to `last`: only for an archive whose segment holds them, inside
 * the transaction that also writes its `audit.archived` row and moves the chain's base.
 */
export async function deleteChainPrefix(tx: Queryable, last: number): Promise<void> {
  await tx.query('DELETE FROM audit_log WHERE seq <= $1', [last]);
}

/**
 * Takes the head row's lock until COMMIT and reads it. An empty chain gets its genesis head
 * row here first; it is committed only together with the batch that moves it.
 */
export async function lockHead(client: Queryable): Promise<ChainHead> {
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

// The head moves first: the DELETE and the INSERT both wait on `moved`, so every writer takes
// the head row's lock before any staged row's, and two extenders never deadlock.
const STORE_IF_HEAD_UNCHANGED = preparedStatement(
  'audit-chain-if-head-unchanged',
  `WITH moved AS (
     UPDATE audit_head SET seq = $11, hash = $12 WHERE seq = $13 AND hash = $14 RETURNING 1
   ), chained AS (
     DELETE FROM audit_pending WHERE id = ANY($15::bigint[]) AND EXISTS (SELECT 1 FROM moved)
   )
   INSERT INTO audit_log (seq, time, actor, action, target, outcome, reason, request_id, prev_hash, hash)
   SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                        $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
    WHERE EXISTS (SELECT 1 FROM moved)`,
);

/**
 * One statement: moves the head from `head` to the last of `records`, inserts them and deletes
 * the staged rows `stagedIds` they were linked from; or does none of it when the head is no
 * longer `head` (the UPDATE waits for a concurrent writer's row lock and then re-checks its
 * condition against the committed row). Staged rows are only ever deleted here, with a head
 * move, so an unchanged head also means no other replica chained them. True when written.
 */
export async function storeIfHeadUnchanged(
  db: Queryable,
  head: ChainHead,
  records: readonly AuditRecord[],
  stagedIds: readonly string[],
): Promise<boolean> {
  const column = <K extends keyof AuditRecord>(key: K): AuditRecord[K][] =>
    records.map((r) => r[key]);
  const last = records.at(-1) as AuditRecord;
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
      stagedIds,
    ]),
  );
  return result.rowCount === records.length;
}
