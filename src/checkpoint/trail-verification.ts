// `audit verify` beyond the chain: stored checkpoints, the archived prefix's anchor, received checkpoints.
import type { JSONWebKeySet } from 'jose';
import {
  archivedRowTargets,
  verifyAuditChain,
  type AuditRecord,
  type AuditVerification,
  type ChainWalk,
} from '../audit/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { ErrorCode } from '../errors/index.js';
import { verifyCheckpointJws, type CheckpointStatement } from './checkpoint-statement.js';
import { hasCheckpointTables, readCheckpoints, storedCheckpointKeys } from './checkpoint-store.js';

/** One thing verification found wrong, with the code a script can match. */
export interface TrailProblem {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The verdict of {@link verifyAuditTrail}. */
export interface TrailVerdict {
  readonly chain: AuditVerification;
  /** Stored checkpoints whose signature and row both verified. */
  readonly checkpoints: number;
  /** Received checkpoints found in the retained chain with their hash. */
  readonly matched: number;
  /** Received checkpoints at or below the archived prefix's end: for the archive to prove. */
  readonly archived: readonly CheckpointStatement[];
  /** Everything wrong besides a chain break (which `chain` reports). */
  readonly problems: readonly TrailProblem[];
}

/** Options of {@link verifyAuditTrail}. */
export interface TrailOptions {
  /** Keys to trust instead of those stored in the database (a JWKS saved out of band). */
  readonly keys?: JSONWebKeySet;
  /** Checkpoint statements a receiver got, already verified against the keys. */
  readonly received?: readonly CheckpointStatement[];
}

/** `target` of an `audit.archived` row: `seq <first>-<last> sha256:<segment digest>`. */
export const ARCHIVED_TARGET = /^seq (\d+)-(\d+) sha256:[0-9a-f]{64}$/;

/**
 * Verifies, in the chain's snapshot: the chain from its start (genesis, or the archived
 * prefix's anchor) to the head; every stored checkpoint's signature and that its row has its
 * hash; that a stored checkpoint signs the anchor and an `audit.archived` row accounts for the
 * prefix; and that every received checkpoint's row is still there with its hash — the
 * truncation a database-only check cannot see (rows deleted, the head moved back, the
 * checkpoints after it deleted too) shows here as the range of rows missing.
 */
export async function verifyAuditTrail(
  db: Database,
  options: TrailOptions = {},
): Promise<TrailVerdict> {
  const problems: TrailProblem[] = [];
  const received = [...(options.received ?? [])].sort((a, b) => a.seq - b.seq);
  let keys = options.keys ?? { keys: [] };
  let tables = false;
  let checkpoints = 0;
  let matched = 0;
  let nextReceived = 0;
  let lastRow = 0;
  const storedProblem = (seq: number, problem: string): void => {
    problems.push({
      code: 'ERR_AUDIT_CHECKPOINT_INVALID',
      message: `stored checkpoint at seq ${seq}: ${problem}`,
    });
  };

  /** Checks stored checkpoints in `(after, upTo]` against `hashOf`. */
  const storedIn = async (
    tx: Queryable,
    after: number,
    upTo: number,
    hashOf: (seq: number) => string | undefined,
  ): Promise<void> => {
    for (let from = after; ;) {
      const page = await readCheckpoints(tx, from, 1_000, upTo);
      if (page.length === 0) return;
      for (const stored of page) {
        let statement: CheckpointStatement;
        try {
          statement = await verifyCheckpointJws(stored.jws, keys);
        } catch (err) {
          storedProblem(stored.seq, (err as { detail?: string }).detail ?? (err as Error).message);
          continue;
        }
        const hash = hashOf(stored.seq);
        if (statement.seq !== stored.seq || statement.hash !== stored.hash) {
          storedProblem(stored.seq, 'its columns differ from the statement it signs');
        } else if (hash === undefined) {
          problems.push({
            code: 'ERR_AUDIT_CHECKPOINT_MISSING',
            message: `stored checkpoint at seq ${stored.seq} is beyond the chain's last row ${lastRow}: rows ${lastRow + 1}–${stored.seq} missing`,
          });
        } else if (hash !== statement.hash) {
          storedProblem(stored.seq, `row ${stored.seq} has another hash (rewritten)`);
        } else {
          checkpoints += 1;
        }
      }
      from = (page.at(-1) as { seq: number }).seq;
    }
  };

  const walk: ChainWalk = {
    async page(tx, rows) {
      if (rows.length === 0) return;
      if (!tables) {
        tables = await hasCheckpointTables(tx);
        if (tables && options.keys === undefined) keys = await storedCheckpointKeys(tx);
      }
      const first = (rows[0] as AuditRecord).seq;
      const last = (rows.at(-1) as AuditRecord).seq;
      lastRow = last;
      const hashes = new Map(rows.map((row) => [row.seq, row.hash]));
      if (tables) await storedIn(tx, first - 1, last, (seq) => hashes.get(seq));
      for (; nextReceived < received.length; nextReceived++) {
        const statement = received[nextReceived] as CheckpointStatement;
        if (statement.seq > last) break;
        if (statement.seq < first) continue; // archived: the archive proves it
        if (hashes.get(statement.seq) === statement.hash) matched += 1;
        else {
          problems.push({
            code: 'ERR_AUDIT_CHECKPOINT_MISSING',
            message: `checkpoint at seq ${statement.seq} does not match the database: row ${statement.seq} has another hash (rewritten)`,
          });
        }
      }
    },
    async finish(tx, verdict) {
      if (!tables) {
        tables = await hasCheckpointTables(tx);
        if (tables && options.keys === undefined) keys = await storedCheckpointKeys(tx);
      }
      const { base } = verdict;
      if (verdict.ok) lastRow = verdict.head.seq;
      else lastRow = verdict.seq - 1;
      if (tables && verdict.ok) {
        // Checkpoints past the last row: the tail was cut after they were signed.
        await storedIn(tx, lastRow, Number.MAX_SAFE_INTEGER, () => undefined);
      }
      if (tables && base !== undefined) {
        await storedIn(tx, 0, base.seq, (seq) => (seq === base.seq ? base.hash : undefined));
        await checkBase(tx, base, problems);
      }
      const beyond = received.filter((statement) => statement.seq > lastRow);
      const highest = beyond.at(-1);
      if (verdict.ok && highest !== undefined) {
        problems.push({
          code: 'ERR_AUDIT_CHECKPOINT_MISSING',
          message: `checkpoint at seq ${highest.seq} not in the database: rows ${lastRow + 1}–${highest.seq} missing`,
        });
      }
    },
  };
  const chain = await verifyAuditChain(db, 5_000, walk);
  const baseSeq = chain.base?.seq ?? 0;
  return {
    chain,
    checkpoints,
    matched,
    archived: received.filter((statement) => statement.seq <= baseSeq),
    problems,
  };
}

/** The anchor needs a signed checkpoint (checked above) and an `audit.archived` row for it. */
async function checkBase(
  tx: Queryable,
  base: { seq: number; hash: string },
  problems: TrailProblem[],
): Promise<void> {
  const anchor = await tx.query('SELECT 1 FROM audit_checkpoints WHERE seq = $1', [base.seq]);
  if (anchor.rowCount === 0) {
    problems.push({
      code: 'ERR_AUDIT_CHECKPOINT_MISSING',
      message: `the retained chain starts after seq ${base.seq}, which no stored checkpoint signs`,
    });
  }
  const accounted = (await archivedRowTargets(tx)).some(
    (target) => Number(ARCHIVED_TARGET.exec(target)?.[2]) === base.seq,
  );
  if (!accounted) {
    problems.push({
      code: 'ERR_AUDIT_CHAIN_BROKEN',
      message: `rows up to seq ${base.seq} were removed without an audit.archived row naming them`,
    });
  }
}
