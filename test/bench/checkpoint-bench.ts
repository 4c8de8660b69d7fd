// What audit checkpoints and retention cost for `npm run bench`: one signed checkpoint round,
// and archiving a prefix of the chain then verifying it offline, on a fresh embedded PostgreSQL.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { PgAuditLog } from '../../src/audit/index.js';
import {
  archiveAudit,
  startAuditCheckpoints,
  verifyArchive,
  type AuditCheckpoints,
} from '../../src/checkpoint/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database, MIGRATIONS, migrate, startEmbeddedPostgres } from '../../src/db/index.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Chain {
  readonly dir: string;
  readonly db: Database;
  readonly log: PgAuditLog;
  readonly clock: ManualClock;
  readonly checkpoints: AuditCheckpoints;
}

/** A fresh cluster with the checkpointer driven by hand (an injected clock, no ticker). */
async function withChain<T>(work: (chain: Chain) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-checkpoint-'));
  await chmod(dir, 0o711);
  const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
  const db = new Database(cluster.url, { max: 20 });
  try {
    await migrate(db, MIGRATIONS);
    const clock = new ManualClock(Date.now() - 86_400_000);
    const log = new PgAuditLog(db, clock);
    const checkpoints = await startAuditCheckpoints({
      db,
      master: new MasterKey(randomBytes(32)),
      clock,
      audit: log,
      log: quiet,
      metrics: new Registry(),
      trustDomain: 'hallmark.local',
      intervalMs: 60_000,
      keyRotationMs: 30 * 86_400_000,
      tick: false,
    });
    try {
      return await work({ dir, db, log, clock, checkpoints });
    } finally {
      await checkpoints.stop();
    }
  } finally {
    await db.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Appends `rows` rows, `concurrency` callers at a time (group-committed as in the server). */
async function fill(log: PgAuditLog, rows: number, concurrency = 256): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < rows) {
        next += 1;
        await log.append({
          actor: `spiffe://hallmark.local/ns/bench/sa/w${worker}`,
          action: 'secret.read',
          target: 'bench/secret@v1',
          outcome: 'success',
        });
      }
    }),
  );
}

/**
 * Milliseconds per checkpoint round that signs (lock, read head and last checkpoint, ES256
 * signature, insert, NOTIFY: everything a replica does once a minute), over `rounds` rounds
 * each after one new row.
 */
export async function measureCheckpointRound(rounds: number): Promise<{ msPerRound: number }> {
  return withChain(async ({ log, clock, checkpoints }) => {
    let spent = 0;
    for (let i = 0; i < rounds; i++) {
      await fill(log, 1, 1);
      clock.advance(60_000);
      const started = performance.now();
      const signed = await checkpoints.checkpointer.round();
      spent += performance.now() - started;
      if (signed === undefined) throw new Error('bench: a due checkpoint was not signed');
    }
    return { msPerRound: spent / rounds };
  });
}

/**
 * `hallmark audit archive` of `rows` rows closed by one checkpoint (read, re-verify, write the
 * segment, delete, in one transaction), then `audit verify --archive` of the segment offline.
 */
export async function measureArchive(
  rows: number,
): Promise<{ archivePerSecond: number; verifyPerSecond: number; bytes: number }> {
  return withChain(async ({ dir, db, log, clock, checkpoints }) => {
    await fill(log, rows);
    clock.advance(60_000);
    const closing = await checkpoints.checkpointer.round();
    if (closing === undefined) throw new Error('bench: no closing checkpoint');
    const to = path.join(dir, 'archive');
    const started = performance.now();
    const result = await archiveAudit({
      db,
      audit: log,
      clock,
      before: { seq: closing.seq + 1 },
      dir: to,
      actor: 'bench',
    });
    const archiveMs = performance.now() - started;
    const verifyStarted = performance.now();
    const verdict = await verifyArchive(to);
    const verifyMs = performance.now() - verifyStarted;
    if (verdict.problems.length > 0 || verdict.rows !== result.manifest.rows) {
      throw new Error(`bench: the archive does not verify: ${verdict.problems[0]?.message}`);
    }
    return {
      archivePerSecond: result.manifest.rows / (archiveMs / 1000),
      verifyPerSecond: verdict.rows / (verifyMs / 1000),
      bytes: (await stat(result.files.rows)).size,
    };
  });
}
