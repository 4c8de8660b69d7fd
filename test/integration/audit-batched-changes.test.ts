// Changes handed to the audit log with their row: committed together, chained at once, one COMMIT a batch.
import { describe, expect, it, vi } from 'vitest';
import {
  PgAuditLog,
  verifyAuditChain,
  type AuditEvent,
  type BatchedChange,
} from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { useAuditFixture } from '../helpers/audit-fixture.js';

const event = (target: string): AuditEvent => ({
  actor: 'k8s:apps/web/web-0',
  action: 'svid.x509.issued',
  target,
  outcome: 'success',
  requestId: `req-${target}`,
});

/** Inserts every id it is given in one statement, as a table owner's batched insert does. */
const insertChanges = (ids: readonly string[]) => ({
  name: 'test-batched-changes-insert',
  text: 'INSERT INTO changes (id) SELECT * FROM unnest($1::text[])',
  values: [ids],
});
const change = (id: string): BatchedChange<string> => ({ statement: insertChanges, row: id });

describe('changes written with their audit row (appendWith)', () => {
  const f = useAuditFixture({ otherPoolSize: 4 });

  const changes = async (): Promise<string[]> =>
    (await f.db.query<{ id: string }>('SELECT id FROM changes ORDER BY id')).rows.map((r) => r.id);
  const chainTargets = async (): Promise<string[]> =>
    (await f.db.query<{ target: string }>('SELECT target FROM audit_log ORDER BY seq')).rows.map(
      (r) => r.target,
    );
  it('resolves only when the change and its chained row are committed, and stages nothing', async () => {
    const record = await f.log.appendWith(change('a'), event('a'));
    // Read by another connection: both are visible as soon as the promise resolves.
    expect((await f.other.query('SELECT id FROM changes')).rows).toEqual([{ id: 'a' }]);
    expect((await f.other.query('SELECT seq, target FROM audit_log')).rows).toEqual([
      { seq: String(record.seq), target: 'a' },
    ]);
    expect(
      Number((await f.other.query('SELECT count(*) AS n FROM audit_pending')).rows[0]?.n),
    ).toBe(0);
    expect(f.sunk.map((r) => r.target)).toEqual(['a']);
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 1 });
  });

  it('writes concurrent changes in few transactions, every one with its row', async () => {
    await f.log.append({ ...event('warm-up'), action: 'audit.read' });
    const transactions = vi.spyOn(f.db, 'transaction');
    const ids = Array.from({ length: 200 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const records = await Promise.all(ids.map((id) => f.log.appendWith(change(id), event(id))));
    expect(await changes()).toEqual(ids);
    expect((await chainTargets()).slice(1).sort()).toEqual(ids);
    expect(new Set(records.map((r) => r.seq)).size).toBe(200);
    // One transaction per change would be 200; a batch is one.
    expect(transactions.mock.calls.length).toBeGreaterThan(0);
    expect(transactions.mock.calls.length).toBeLessThan(20);
    transactions.mockRestore();
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 201 });
  });

  it('fails neither the rows waiting on settle() nor a plain append for one wrong change', async () => {
    await f.db.query("INSERT INTO changes VALUES ('taken')");
    // A row staged and committed by a change elsewhere, to be chained by the next batch.
    await f.db.transaction(async (tx) => {
      await tx.query("INSERT INTO changes VALUES ('staged')");
      await f.log.stage(tx, event('staged'));
    });
    const results = await Promise.allSettled([
      f.log.appendWith(change('taken'), event('taken')),
      f.log.settle(),
      f.log.append({ ...event('plain'), action: 'audit.read' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect((await chainTargets()).sort()).toEqual(['plain', 'staged']);
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 2 });
  });

  it('fails only the wrong change of a batch, which leaves no row', async () => {
    await f.db.query("INSERT INTO changes VALUES ('taken')");
    const results = await Promise.allSettled([
      f.log.appendWith(change('x1'), event('x1')),
      f.log.appendWith(change('taken'), event('taken')),
      f.log.append({ ...event('plain'), action: 'audit.read' }),
      f.log.appendWith(change('x2'), event('x2')),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    // The change's own constraint, not an outage: no retry would cure it.
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
    expect(await changes()).toEqual(['taken', 'x1', 'x2']);
    expect((await chainTargets()).sort()).toEqual(['plain', 'x1', 'x2']);
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 3 });
    // The log goes on after it.
    await f.log.appendWith(change('x3'), event('x3'));
    expect(await changes()).toContain('x3');
  });

  it('writes neither change nor row when the database cannot store the row (ERR_AUDIT_UNAVAILABLE)', async () => {
    await f.db.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'audit storage full' USING ERRCODE = 'disk_full'; END $$`);
    await f.db.query(
      'CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse()',
    );
    const results = await Promise.allSettled(
      ['d1', 'd2', 'd3'].map((id) => f.log.appendWith(change(id), event(id))),
    );
    for (const result of results) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { code: 'ERR_AUDIT_UNAVAILABLE' },
      });
    }
    expect(await changes()).toEqual([]);
    expect(await chainTargets()).toEqual([]);
  });

  it('fails a batch whose statement wrote fewer rows than it was given, writing nothing', async () => {
    const skipping = (ids: readonly string[]) => ({
      text: 'INSERT INTO changes (id) SELECT * FROM unnest($1::text[]) ON CONFLICT DO NOTHING',
      values: [ids],
    });
    await f.db.query("INSERT INTO changes VALUES ('dup')");
    await expect(
      f.log.appendWith({ statement: skipping, row: 'dup' }, event('dup')),
    ).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    expect(await chainTargets()).toEqual([]);
  });

  it('keeps one unbroken chain when two servers write batches at once', async () => {
    const second = new PgAuditLog(f.other, systemClock);
    try {
      const ids = Array.from({ length: 60 }, (_, i) => `r${String(i).padStart(2, '0')}`);
      await Promise.all(
        ids.map((id, i) => (i % 2 === 0 ? f.log : second).appendWith(change(id), event(id))),
      );
      expect(await changes()).toEqual(ids);
      expect((await chainTargets()).sort()).toEqual(ids);
      expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 60 });
    } finally {
      await second.stop();
    }
  });
});
