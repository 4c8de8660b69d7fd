// Reading the chain back from PostgreSQL: pages of rows after a cursor, and full verification.
import type { Database, Queryable } from '../db/index.js';
import type { AuditRecord } from './audit-record.js';
import { ChainVerifier, type ChainVerdict } from './chain-verifier.js';

interface AuditRow {
  seq: string;
  time: Date;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  reason: string;
  request_id: string;
  prev_hash: string;
  hash: string;
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    time: row.time.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    reason: row.reason,
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** `seq` of the oldest row still stored (an archived prefix is gone); none on an empty log. */
export async function oldestAuditSeq(db: Queryable): Promise<number | undefined> {
  const result = await db.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_log');
  const seq = result.rows[0]?.seq;
  return seq === null || seq === undefined ? undefined : Number(seq);
}

/** `seq` of the first row at or after `time`, or `undefined` when none is that recent. */
export async function firstAuditSeqSince(db: Queryable, time: Date): Promise<number | undefined> {
  const result = await db.query<{ seq: string | null }>(
    'SELECT min(seq) AS seq FROM audit_log WHERE time >= $1',
    [time],
  );
  const seq = result.rows[0]?.seq;
  return seq === null || seq === undefined ? undefined : Number(seq);
}

/** `seq` of the chain's head: the last row chained (0 on an empty chain). */
export async function auditHeadSeq(db: Queryable): Promise<number> {
  const result = await db.query<{ seq: string }>('SELECT seq FROM audit_head');
  return Number(result.rows[0]?.seq ?? 0);
}

/** The chain's head as stored, or `undefined` before the first row was ever chained. */
export async function readAuditHead(
  db: Queryable,
): Promise<{ seq: number; hash: string } | undefined> {
  const result = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head');
  const row = result.rows[0];
  return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash };
}

/** `seq` of the last row committed before `time` (0 when none is that old). */
export async function lastAuditSeqBefore(db: Queryable, time: Date): Promise<number> {
  const result = await db.query<{ seq: string | null }>(
    'SELECT max(seq) AS seq FROM audit_log WHERE time < $1',
    [time],
  );
  return Number(result.rows[0]?.seq ?? 0);
}

/** The stored hash of row `seq`, if that row is still in the table. */
export async function auditRowHash(db: Queryable, seq: number): Promise<string | undefined> {
  const result = await db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = $1', [
    seq,
  ]);
  return result.rows[0]?.hash;
}

/** The first chained row after `seq`: its seq and commit time (epoch ms). */
export async function firstAuditRowAfter(
  db: Queryable,
  seq: number,
): Promise<{ seq: number; time: number } | undefined> {
  const result = await db.query<{ seq: string; time: Date }>(
    'SELECT seq, time FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1',
    [seq],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { seq: Number(row.seq), time: row.time.getTime() };
}

/** How many chained rows follow `seq`, and when the oldest of them was committed (epoch ms). */
export async function auditRowsAfter(
  db: Queryable,
  seq: number,
): Promise<{ count: number; oldest: number | undefined }> {
  const result = await db.query<{ n: string; oldest: Date | null }>(
    'SELECT count(*) AS n, min(time) AS oldest FROM audit_log WHERE seq > $1',
    [seq],
  );
  return {
    count: Number(result.rows[0]?.n ?? 0),
    oldest: result.rows[0]?.oldest?.getTime(),
  };
}

/** Targets of the successful `audit.archived` rows, chained or still staged. */
export async function archivedRowTargets(db: Queryable): Promise<string[]> {
  const result = await db.query<{ target: string }>(
    `SELECT target FROM audit_log WHERE action = 'audit.archived' AND outcome = 'success'
     UNION ALL
     SELECT target FROM audit_pending WHERE action = 'audit.archived' AND outcome = 'success'`,
  );
  return result.rows.map((row) => row.target);
}

/** Rows with `seq > after`, oldest first, at most `limit`. */
export async function readAuditPage(
  db: Queryable,
  after: number,
  limit: number,
): Promise<AuditRecord[]> {
  const result = await db.query<AuditRow>(
    'SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
    [after, limit],
  );
  return result.rows.map(toRecord);
}

/** A verdict on the chain, and how many staged rows are still waiting to join it. */
export type AuditVerification = ChainVerdict & {
  /** Rows that committed with their change but are not linked yet: not a break. */
  readonly staged: number;
  /** Where the retained chain starts after an archive (its anchor row); undefined: genesis. */
  readonly base: { readonly seq: number; readonly hash: string } | undefined;
};

/** Checks run inside the verification's snapshot, beside the chain's own (signed checkpoints). */
export interface ChainWalk {
  /** Each page of verified rows, in order. */
  page(tx: Queryable, rows: readonly AuditRecord[]): Promise<void>;
  /** Once the walk is over, with the verdict on the chain. */
  finish(tx: Queryable, verdict: AuditVerification): Promise<void>;
}

/** The archived prefix's anchor (migration 13's `audit_base`), if the table and a row exist. */
async function readBase(tx: Queryable): Promise<AuditVerification['base']> {
  const exists = await tx.query<{ ok: boolean }>(
    "SELECT to_regclass('audit_base') IS NOT NULL AS ok",
  );
  if (exists.rows[0]?.ok !== true) return undefined;
  const result = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_base');
  const row = result.rows[0];
  return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash };
}

/**
 * Walks the whole retained chain in pages (constant memory) from genesis, or from the last
 * archived row, and checks it against the stored head, all inside one REPEATABLE READ
 * snapshot: rows chained while it runs are neither half-seen nor mistaken for a break. Works
 * with the server down: it needs only the database. `walk` adds checks in the same snapshot.
 */
export async function verifyAuditChain(
  db: Database,
  pageSize = 5_000,
  walk?: ChainWalk,
): Promise<AuditVerification> {
  return db.transaction(
    async (tx) => {
      const base = await readBase(tx);
      const verifier = new ChainVerifier(base);
      let verdict: ChainVerdict | undefined;
      let after = base?.seq ?? 0;
      for (;;) {
        const page = await readAuditPage(tx, after, pageSize);
        if (page.length === 0) break;
        if (!page.every((row) => verifier.add(row))) {
          verdict = verifier.finish(undefined);
          // The rows before the break are still checked against their checkpoints.
          const broken = verdict.ok ? Number.POSITIVE_INFINITY : verdict.seq;
          await walk?.page(
            tx,
            page.filter((row) => row.seq < broken),
          );
          break;
        }
        await walk?.page(tx, page);
        after = (page.at(-1) as AuditRecord).seq;
      }
      if (verdict === undefined) {
        const head = await tx.query<{ seq: string; hash: string }>(
          'SELECT seq, hash FROM audit_head',
        );
        const row = head.rows[0];
        verdict = verifier.finish(row ? { seq: Number(row.seq), hash: row.hash } : undefined);
      }
      const staged = await tx.query<{ n: string }>('SELECT count(*) AS n FROM audit_pending');
      const result = { ...verdict, staged: Number(staged.rows[0]?.n ?? 0), base };
      await walk?.finish(tx, result);
      return result;
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
