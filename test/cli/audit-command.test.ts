import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import type { Database } from '../../src/db/index.js';
import { runCli } from '../helpers/cli-process.js';
import { createMigratedDatabase } from '../helpers/database.js';

describe('hallmark audit verify', () => {
  let url: string;
  let db: Database;

  beforeAll(async () => {
    ({ url, db } = await createMigratedDatabase());
    const log = new PgAuditLog(db, systemClock);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        log.append({
          actor: 'key:admin',
          action: 'secret.write',
          target: `a/s${i}`,
          outcome: 'success',
        }),
      ),
    );
  });
  afterAll(() => db.close());

  it('exits 0 on an intact chain', async () => {
    const result = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('audit chain intact: 50 rows');
  });

  it('exits 1 naming the first broken seq after an edit', async () => {
    await db.query("UPDATE audit_log SET actor = 'key:intruder' WHERE seq = 23");
    const result = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken at seq 23\b/);
    await db.query("UPDATE audit_log SET actor = 'key:admin' WHERE seq = 23");
  });

  it('exits 1 naming the seq of a deleted row', async () => {
    await db.query('DELETE FROM audit_log WHERE seq = 31');
    const result = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken at seq 31\b/);
  });

  it('rejects a missing subcommand with usage and exit 2', async () => {
    const result = await runCli(['audit'], { DATABASE_URL: url });
    expect(result.code).toBe(2);
  });
});
