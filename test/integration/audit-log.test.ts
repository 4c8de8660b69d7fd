import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog, verifyAuditChain } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database } from '../../src/db/index.js';
import { createMigratedDatabase } from '../helpers/database.js';

describe('PostgreSQL audit log', () => {
  let url: string;
  let first: Database;
  let second: Database;

  beforeAll(async () => {
    const created = await createMigratedDatabase();
    url = created.url;
    first = created.db;
    second = new Database(url, { max: 10 });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('keeps one unbroken chain under 1,000 concurrent appends from two pools', async () => {
    // Two PgAuditLog instances on two pools stand for two server processes.
    const logs = [new PgAuditLog(first, systemClock), new PgAuditLog(second, systemClock)];
    const appends = Array.from({ length: 1000 }, (_, i) =>
      (logs[i % 2] as PgAuditLog).append({
        actor: `spiffe://hallmark.local/ns/a/sa/w${i % 7}`,
        action: 'secret.read',
        target: `app/s${i}`,
        outcome: 'success',
        requestId: `r${i}`,
      }),
    );
    const records = await Promise.all(appends);
    const seqs = new Set(records.map((r) => r.seq));
    expect(seqs.size).toBe(1000);
    expect(Math.max(...seqs)).toBe(1000);
    const verdict = await verifyAuditChain(first);
    expect(verdict).toMatchObject({ ok: true, rows: 1000 });
  });

  it('names the seq of an edited outcome', async () => {
    await first.query("UPDATE audit_log SET outcome = 'denied' WHERE seq = 417");
    expect(await verifyAuditChain(first)).toMatchObject({ ok: false, seq: 417 });
    await first.query("UPDATE audit_log SET outcome = 'success' WHERE seq = 417");
    expect(await verifyAuditChain(first)).toMatchObject({ ok: true });
  });

  it('names the seq of a deleted row', async () => {
    const saved = await first.query('SELECT * FROM audit_log WHERE seq = 600');
    await first.query('DELETE FROM audit_log WHERE seq = 600');
    expect(await verifyAuditChain(first)).toMatchObject({ ok: false, seq: 600 });
    const row = saved.rows[0] as Record<string, unknown>;
    await first.query(
      'INSERT INTO audit_log SELECT * FROM json_populate_record(NULL::audit_log, $1::json)',
      [JSON.stringify(row)],
    );
    expect(await verifyAuditChain(first)).toMatchObject({ ok: true });
  });

  it('names the first seq of two swapped rows', async () => {
    await first.query(`
      UPDATE audit_log SET seq = -1 WHERE seq = 200;
    `);
    await first.query('UPDATE audit_log SET seq = 200 WHERE seq = 201');
    await first.query('UPDATE audit_log SET seq = 201 WHERE seq = -1');
    expect(await verifyAuditChain(first)).toMatchObject({ ok: false, seq: 200 });
  });

  it('fails closed when the database is unreachable', async () => {
    const dead = new Database('postgres://postgres:x@127.0.0.1:1/none', { max: 1 });
    const log = new PgAuditLog(dead, systemClock);
    await expect(
      log.append({ actor: 'a', action: 'secret.read', target: 'c', outcome: 'success' }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    await dead.close();
  });
});

describe('PostgreSQL audit log, two writers taking turns', () => {
  it('links a batch to the head another process moved since this one last wrote', async () => {
    const { db, url } = await createMigratedDatabase();
    const other = new Database(url, { max: 2 });
    try {
      const mine = new PgAuditLog(db, systemClock);
      const theirs = new PgAuditLog(other, systemClock);
      const event = (target: string) =>
        ({ actor: 'key:admin', action: 'secret.read', target, outcome: 'success' }) as const;
      // `mine` remembers the head it wrote (seq 1); `theirs` then moves it twice.
      expect((await mine.append(event('a'))).seq).toBe(1);
      expect((await theirs.append(event('b'))).seq).toBe(2);
      expect((await theirs.append(event('c'))).seq).toBe(3);
      const fourth = await mine.append(event('d'));
      expect(fourth.seq).toBe(4);
      const rows = await db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 3');
      expect(fourth.prevHash).toBe(rows.rows[0]?.hash);
      expect(await verifyAuditChain(db)).toMatchObject({ ok: true, rows: 4 });
    } finally {
      await other.close();
      await db.close();
    }
  });
});
