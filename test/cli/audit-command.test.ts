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

describe('hallmark audit verify on a live database', () => {
  it('passes 20 times in a row while another process appends and stages continuously', async () => {
    const { url, db } = await createMigratedDatabase();
    // The writer stands for a running server: its own pool and extender.
    const writer = new PgAuditLog(db, systemClock);
    const event = (target: string) =>
      ({ actor: 'key:admin', action: 'secret.read', target, outcome: 'success' }) as const;
    let stop = false;
    let rounds = 0;
    const writing = (async () => {
      while (!stop) {
        await Promise.all([
          ...Array.from({ length: 10 }, (_, i) => writer.append(event(`r${rounds}-${i}`))),
          db.transaction((tx) =>
            writer.stage(tx, { ...event(`w${rounds}`), action: 'secret.write' }),
          ),
        ]);
        rounds += 1;
        // Paced, so the chain stays small enough to verify 20 times within the test's budget.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      for (let i = 0; i < 20; i++) {
        const before = rounds;
        const result = await runCli(['audit', 'verify'], { DATABASE_URL: url });
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain('audit chain intact');
        expect(rounds).toBeGreaterThan(before);
      }
    } finally {
      stop = true;
      await writing;
      await writer.stop();
      await db.close();
    }
  }, 180_000);

  it('counts staged rows apart from the chain, and exits 0', async () => {
    const { url, db } = await createMigratedDatabase();
    try {
      await new PgAuditLog(db, systemClock).append({
        actor: 'key:admin',
        action: 'secret.read',
        target: 'a',
        outcome: 'success',
      });
      // A row a change committed that no server has chained yet (none is running).
      await db.query(
        `INSERT INTO audit_pending (time, actor, action, target, outcome, reason, request_id)
         VALUES (now(), 'key:admin', 'secret.write', 'b@v1', 'success', '', '')`,
      );
      const result = await runCli(['audit', 'verify'], { DATABASE_URL: url });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('audit chain intact: 1 rows');
      expect(result.stdout).toContain('1 staged rows not yet chained');
    } finally {
      await db.close();
    }
  });
});
