// Reading the chain back from PostgreSQL: pages of rows after a cursor, and full verification.
import type { Queryable } from '../db/index.js';
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

/**
 * Walks the whole chain in pages (constant memory) and checks it against the stored head.
 * Works with the server down: it needs only the database.
 */
export async function verifyAuditChain(db: Queryable, pageSize = 5_000): Promise<ChainVerdict> {
  const verifier = new ChainVerifier();
  let after = 0;
  for (;;) {
    const page = await readAuditPage(db, after, pageSize);
    if (page.length === 0) break;
    for (const row of page) if (!verifier.add(row)) return verifier.finish(undefined);
    after = (page.at(-1) as AuditRecord).seq;
  }
  const head = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head');
  const row = head.rows[0];
  return verifier.finish(row ? { seq: Number(row.seq), hash: row.hash } : undefined);
}
