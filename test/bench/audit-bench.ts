// The audit chain's append rate for `npm run bench`: many concurrent appends, group-committed,
// on a fresh embedded PostgreSQL with default (durable) settings, with or without checkpoints.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { PgAuditLog } from '../../src/audit/index.js';
import { startAuditCheckpoints, type AuditCheckpoints } from '../../src/checkpoint/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database, MIGRATIONS, migrate, startEmbeddedPostgres } from '../../src/db/index.js';

/**
 * Appends per second with `concurrency` callers waiting on their commit, over `durationMs`.
 * With `checkpoints`, the checkpointer runs beside them as in the server, signing the head on
 * every tick (interval 1 s): what signing costs the appends.
 */
export async function measureAuditAppends(
  durationMs: number,
  concurrency = 256,
  options: { checkpoints?: boolean } = {},
): Promise<{ perSecond: number; checkpoints: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-audit-'));
  await chmod(dir, 0o711);
  const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
  const db = new Database(cluster.url, { max: 4 });
  try {
    await migrate(db, MIGRATIONS);
    const log = new PgAuditLog(db, systemClock);
    let checkpoints: AuditCheckpoints | undefined;
    if (options.checkpoints === true) {
      const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
      checkpoints = await startAuditCheckpoints({
        db,
        master: new MasterKey(randomBytes(32)),
        clock: systemClock,
        audit: log,
        log: quiet,
        metrics: new Registry(),
        trustDomain: 'hallmark.local',
        intervalMs: 1_000,
        keyRotationMs: 30 * 86_400_000,
      });
    }
    let appended = 0;
    const end = performance.now() + durationMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (performance.now() < end) {
          await log.append({
            actor: `spiffe://hallmark.local/ns/bench/sa/w${worker}`,
            action: 'secret.read',
            target: 'bench/secret@v1',
            outcome: 'success',
          });
          appended += 1;
        }
      }),
    );
    const perSecond = appended / ((performance.now() - started) / 1000);
    await checkpoints?.stop();
    const signed = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_checkpoints');
    return { perSecond, checkpoints: Number(signed.rows[0]?.n ?? 0) };
  } finally {
    await db.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
