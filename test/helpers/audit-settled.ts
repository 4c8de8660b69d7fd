// Before a test reads audit_log: staged rows join the chain moments after their change commits.
import type { Queryable } from '../../src/db/index.js';

/**
 * Waits until no staged audit row is left, whichever server (in this process or another)
 * chains it; servers chain their own rows right after COMMIT and others' within a second.
 * Use `server.audit.settle()` instead where the server runs in this process.
 */
export async function auditSettled(db: Queryable, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_pending');
    const staged = Number(result.rows[0]?.n ?? 0);
    if (staged === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${staged} staged audit rows not chained within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
