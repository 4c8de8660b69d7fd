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
};

/**
 * Walks the whole chain in pages (constant memory) and checks it against the stored head, all
 * inside one REPEATABLE READ snapshot: rows chained while it runs are neither half-seen nor
 * mistaken for a break. Works with the server down: it needs only the database.
 */
export async function verifyAuditChain(db: Database, pageSize = 5_000): Promise<AuditVerification> {
  return db.transaction(
    async (tx) => {
      const verifier = new ChainVerifier();
      let verdict: ChainVerdict | undefined;
      let after = 0;
      for (;;) {
        const page = await readAuditPage(tx, after, pageSize);
        if (page.length === 0) break;
        if (!page.every((row) => verifier.add(row))) {
          verdict = verifier.finish(undefined);
          break;
        }
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
      return { ...verdict, staged: Number(staged.rows[0]?.n ?? 0) };
    },
    { isolation: 'repeatable read', readOnly: true },
  );
}
