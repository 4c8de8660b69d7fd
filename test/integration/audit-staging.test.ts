// Staged audit rows: they commit with their change, join the chain once, and verify reads one snapshot.
import { describe, expect, it } from 'vitest';
import {
  PgAuditLog,
  verifyAuditChain,
  type AuditAction,
  type AuditEvent,
} from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import type { Database } from '../../src/db/index.js';
import { useAuditFixture } from '../helpers/audit-fixture.js';

const event = (target: string, action: AuditAction = 'secret.write'): AuditEvent => ({
  actor: 'key:admin',
  action,
  target,
  outcome: 'success',
  requestId: `req-${target}`,
});

describe('staged audit rows', () => {
  const f = useAuditFixture();

  const chain = async (): Promise<{ target: string; action: string; seq: string }[]> =>
    (await f.db.query('SELECT seq, action, target FROM audit_log ORDER BY seq')).rows as never;
  const staged = async (): Promise<number> =>
    Number((await f.db.query('SELECT count(*) AS n FROM audit_pending')).rows[0]?.n);

  it('chains a committed change’s row after COMMIT and emits it on the sink', async () => {
    await f.db.transaction(async (tx) => {
      await tx.query("INSERT INTO changes VALUES ('a')");
      await f.log.stage(tx, event('a'));
    });
    await f.log.settle();
    expect(await chain()).toEqual([{ seq: '1', action: 'secret.write', target: 'a' }]);
    expect(await staged()).toBe(0);
    expect(f.sunk.map((r) => [r.seq, r.target, r.requestId])).toEqual([[1, 'a', 'req-a']]);
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 1, staged: 0 });
  });

  it('leaves no row for a change that rolled back', async () => {
    await expect(
      f.db.transaction(async (tx) => {
        await tx.query("INSERT INTO changes VALUES ('b')");
        await f.log.stage(tx, event('b'));
        throw new Error('change failed after its row was staged');
      }),
    ).rejects.toThrow('change failed');
    await f.log.settle();
    expect(await chain()).toEqual([]);
    expect(await staged()).toBe(0);
  });

  it('rolls the change back when the database cannot store its row (ERR_AUDIT_UNAVAILABLE)', async () => {
    await f.db.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'audit storage full' USING ERRCODE = 'disk_full'; END $$`);
    await f.db.query(
      'CREATE TRIGGER refuse BEFORE INSERT ON audit_pending FOR EACH ROW EXECUTE FUNCTION refuse()',
    );
    await expect(
      f.db.transaction(async (tx) => {
        await tx.query("INSERT INTO changes VALUES ('c')");
        await f.log.stage(tx, event('c'));
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    const change = { text: "INSERT INTO changes VALUES ('d') RETURNING id", values: [] };
    await expect(f.log.stageWith(f.db, change, event('d'))).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
    });
    expect((await f.db.query('SELECT * FROM changes')).rows).toEqual([]);
  });

  it('rethrows a wrong change or row as itself, not as an unavailable audit log', async () => {
    await f.db.query("INSERT INTO changes VALUES ('taken')");
    // The change's own constraint (23505): the caller's conflict, which no retry would cure.
    const duplicate = { text: "INSERT INTO changes VALUES ('taken') RETURNING id", values: [] };
    const conflict = await f.log
      .stageWith(f.db, duplicate, event('dup'))
      .catch((err: unknown) => err);
    expect(conflict).toMatchObject({ code: '23505' });
    // A row PostgreSQL cannot store as text (a NUL byte, 22021): a defect upstream.
    const nul = await f.db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO changes VALUES ('n')");
        await f.log.stage(tx, { ...event('n'), actor: 'key:\u0000admin' });
      })
      .catch((err: unknown) => err);
    expect(nul).toMatchObject({ code: '22021' });
    // A defect in the statement itself (42P01: no such table), not a 503.
    const broken = { text: "INSERT INTO chnages VALUES ('b') RETURNING id", values: [] };
    const defect = await f.log.stageWith(f.db, broken, event('b')).catch((err: unknown) => err);
    expect(defect).toMatchObject({ code: '42P01' });
    expect((await f.db.query('SELECT id FROM changes ORDER BY id')).rows).toEqual([
      { id: 'taken' },
    ]);
    await f.log.settle();
    expect(await chain()).toEqual([]);
  });

  it('stages with a change in one statement, and only when the change returned a row', async () => {
    const insert = (id: string) => ({
      name: 'test-change-insert',
      text: 'INSERT INTO changes VALUES ($1) ON CONFLICT DO NOTHING RETURNING id',
      values: [id],
    });
    const first = await f.log.stageWith<{ id: string }>(f.db, insert('e'), event('e'));
    expect(first.rows).toEqual([{ id: 'e' }]);
    const repeated = await f.log.stageWith(f.db, insert('e'), event('e again'));
    expect(repeated.rows).toEqual([]);
    await f.log.settle();
    expect((await chain()).map((r) => r.target)).toEqual(['e']);
  });

  it('chains rows a crashed replica staged, within the poll interval', async () => {
    // Rows committed by a process that died before chaining them.
    const dead = new PgAuditLog(f.other, systemClock);
    await f.other.transaction(async (tx) => {
      await dead.stage(tx, event('orphan-1'));
      await dead.stage(tx, event('orphan-2'));
    });
    await dead.stop();
    // `dead` woke its own extender at COMMIT; undo that by staging two more behind its back.
    await f.other.query(
      `INSERT INTO audit_pending (time, actor, action, target, outcome, reason, request_id)
       VALUES (now(), 'key:admin', 'secret.write', 'orphan-3', 'success', '', ''),
              (now(), 'key:admin', 'secret.write', 'orphan-4', 'success', '', '')`,
    );
    f.log.start(50);
    await expect.poll(staged, { timeout: 2_000, interval: 20 }).toBe(0);
    const targets = (await chain()).map((r) => r.target);
    expect(targets.slice(-2)).toEqual(['orphan-3', 'orphan-4']);
    expect(new Set(targets)).toEqual(new Set(['orphan-1', 'orphan-2', 'orphan-3', 'orphan-4']));
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 4 });
  });

  it('keeps one chain with every row once when two replicas stage and append at once', async () => {
    const logs = [f.log, new PgAuditLog(f.other, systemClock)];
    const pools = [f.db, f.other];
    const work = Array.from({ length: 400 }, async (_, i) => {
      const mine = logs[i % 2] as PgAuditLog;
      if (i % 3 === 0) return mine.append(event(`append-${i}`, 'secret.read'));
      return (pools[i % 2] as Database).transaction(async (tx) => {
        await tx.query('INSERT INTO changes VALUES ($1)', [`change-${i}`]);
        await mine.stage(tx, event(`change-${i}`));
      });
    });
    await Promise.all(work);
    await Promise.all(logs.map((l) => l.settle()));
    const targets = (await chain()).map((r) => r.target);
    expect(targets).toHaveLength(400);
    expect(new Set(targets).size).toBe(400);
    expect(await staged()).toBe(0);
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 400, staged: 0 });
    await (logs[1] as PgAuditLog).stop();
  });

  it('reports staged rows apart from the chain, not as a break', async () => {
    await f.log.append(event('chained', 'secret.read'));
    await f.other.query(
      `INSERT INTO audit_pending (time, actor, action, target, outcome, reason, request_id)
       VALUES (now(), 'key:admin', 'secret.write', 'waiting', 'success', '', '')`,
    );
    expect(await verifyAuditChain(f.db)).toMatchObject({ ok: true, rows: 1, staged: 1 });
  });

  it('verifies 20 times in a row while another process appends and stages continuously', async () => {
    const writer = new PgAuditLog(f.other, systemClock);
    await writer.append(event('first', 'secret.read'));
    let stop = false;
    let written = 0;
    const writing = (async () => {
      while (!stop) {
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) =>
            writer.append(event(`read-${written}-${i}`, 'secret.read')),
          ),
          f.other.transaction((tx) => writer.stage(tx, event(`write-${written}`))),
        ]);
        written += 1;
      }
    })();
    try {
      for (let i = 0; i < 20; i++) {
        const before = written;
        // A small page makes each verification span many statements, as a long chain does.
        const verdict = await verifyAuditChain(f.db, 50);
        expect(verdict).toMatchObject({ ok: true });
        await expect.poll(() => written, { timeout: 5_000, interval: 1 }).toBeGreaterThan(before);
      }
    } finally {
      stop = true;
      await writing;
      await writer.stop();
    }
  });
});
