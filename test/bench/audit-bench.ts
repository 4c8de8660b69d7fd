// The audit chain's append rate for `npm run bench`: many concurrent appends, group-committed,
// on a fresh embedded PostgreSQL with default (durable) settings.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database, MIGRATIONS, migrate, startEmbeddedPostgres } from '../../src/db/index.js';

/** Appends per second with `concurrency` callers waiting on their commit, over `durationMs`. */
export async function measureAuditAppends(
  durationMs: number,
  concurrency = 256,
): Promise<{ perSecond: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-audit-'));
  await chmod(dir, 0o711);
  const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
  const db = new Database(cluster.url, { max: 4 });
  try {
    await migrate(db, MIGRATIONS);
    const log = new PgAuditLog(db, systemClock);
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
    return { perSecond: appended / ((performance.now() - started) / 1000) };
  } finally {
    await db.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
