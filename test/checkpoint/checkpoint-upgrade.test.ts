// Upgrade: a database of the release before migration 13 verifies, then starts with checkpoints.
import { describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database, MIGRATIONS, migrate } from '../../src/db/index.js';
import { runCli } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startStack } from '../helpers/hallmark-stack.js';
import { appendRows } from '../sink/sink-fixtures.js';

describe('a database from before migration 13', () => {
  it('keeps verifying before and after the upgrade, which adds signed checkpoints', async () => {
    const url = await createEmptyDatabase();
    const before = new Database(url, { max: 2 });
    try {
      await migrate(
        before,
        MIGRATIONS.filter((m) => m.version < 13),
      );
      // A sink that delivered rows before the upgrade keeps its row cursor.
      await appendRows(new PgAuditLog(before, systemClock), 20, 'old');
      await before.query(
        "INSERT INTO audit_sink_cursors (sink, seq, updated_at) VALUES ('webhook', 20, now())",
      );
    } finally {
      await before.close();
    }
    const old = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(old.stderr).toBe('');
    expect(old.code).toBe(0);
    expect(old.stdout).toContain('audit chain intact: 20 rows');

    const stack = await startStack({ databaseUrl: url, checkpointTicker: false });
    try {
      await stack.server.audit.settle();
      const signed = await stack.server.checkpoints.checkpointer.round();
      expect(signed?.seq).toBeGreaterThan(20);
      const cursor = await stack.server.db.query<{ seq: string }>(
        "SELECT seq FROM audit_sink_cursors WHERE sink = 'webhook'",
      );
      expect(Number(cursor.rows[0]?.seq)).toBe(20);
    } finally {
      await stack.close();
    }
    const upgraded = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(upgraded.stderr).toBe('');
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout).toContain('checkpoints: 1 stored verified');
  });
});
