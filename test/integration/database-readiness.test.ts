// Database readiness answers from the pool's own activity or a connection of its own, never a pooled one.
import type pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../doubles/manual-clock.js';
import { Database, DatabaseReadiness, MIGRATIONS } from '../../src/db/index.js';
import { createEmptyDatabase, createMigratedDatabase } from '../helpers/database.js';

describe('DatabaseReadiness', () => {
  let url: string;
  let db: Database;
  let readiness: DatabaseReadiness;
  let clock: ManualClock;
  const held: pg.PoolClient[] = [];

  beforeEach(async () => {
    const created = await createMigratedDatabase();
    url = created.url;
    await created.db.close();
    db = new Database(url, { max: 3 });
    clock = new ManualClock();
    readiness = new DatabaseReadiness({ url, db, migrations: MIGRATIONS, clock });
  });

  afterEach(async () => {
    for (const client of held.splice(0)) client.release();
    await readiness.close();
    await db.close();
  });

  /** Sessions the probe holds open now, seen from outside the pool. */
  async function probeSessions(observer: Database): Promise<number> {
    const result = await observer.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'hallmark-readiness'`,
    );
    return Number(result.rows[0]?.n);
  }

  it('answers ready while every pooled connection is taken, without waiting for one', async () => {
    for (let i = 0; i < 3; i++) held.push(await db.pool.connect());
    const started = performance.now();
    expect(await readiness.check()).toEqual({ ready: true });
    // Liveness bound: a probe through the pool would wait for its 5 s connection timeout.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(db.pool.waitingCount).toBe(0);
  });

  it('lets recent pool activity stand for a probe, and probes again once it is stale', async () => {
    const observer = new Database(url, { max: 1 });
    try {
      expect(await readiness.check()).toEqual({ ready: true });
      expect(await probeSessions(observer)).toBe(1);
      // Drop the probe's session: only a new probe could open another one.
      await observer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'hallmark-readiness'`,
      );
      await expect.poll(() => probeSessions(observer)).toBe(0);

      clock.advance(5_000);
      await db.query('SELECT 1'); // a writer's statement, answered just now
      clock.advance(500);
      expect(await readiness.check()).toEqual({ ready: true });
      expect(await probeSessions(observer)).toBe(0);

      clock.advance(1_000); // the pool has been quiet for 1.5 s
      expect(await readiness.check()).toEqual({ ready: true });
      expect(await probeSessions(observer)).toBe(1);
    } finally {
      await observer.close();
    }
  });

  it('is not ready when PostgreSQL cannot be reached, nor before every migration is applied', async () => {
    const deadUrl = 'postgres://postgres:x@127.0.0.1:1/none';
    const dead = new Database(deadUrl, { max: 1 });
    const unreachable = new DatabaseReadiness({
      url: deadUrl,
      db: dead,
      migrations: MIGRATIONS,
      clock,
      timeoutMs: 500,
    });
    const empty = await createEmptyDatabase();
    const bare = new Database(empty, { max: 1 });
    const unmigrated = new DatabaseReadiness({
      url: empty,
      db: bare,
      migrations: MIGRATIONS,
      clock,
    });
    try {
      expect(await unreachable.check()).toEqual({ ready: false, reason: 'database unavailable' });
      // No schema_migrations table at all: PostgreSQL answers, the schema is not there.
      expect((await unmigrated.check()).ready).toBe(false);
    } finally {
      await unreachable.close();
      await unmigrated.close();
      await dead.close();
      await bare.close();
    }
  });

  it('a statement that found PostgreSQL gone sends the next check to the probe', async () => {
    expect(await readiness.check()).toEqual({ ready: true });
    const observer = new Database(url, { max: 1 });
    try {
      await observer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'hallmark-readiness'`,
      );
      await expect.poll(() => probeSessions(observer)).toBe(0);
      // A pooled session ends under its statement (57P01), as when PostgreSQL shuts down.
      await expect(db.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toMatchObject(
        { code: 'ERR_DB_UNAVAILABLE' },
      );
      // Fresh by the clock, but the pool's last word was "unreachable": a probe runs.
      expect(await readiness.check()).toEqual({ ready: true });
      expect(await probeSessions(observer)).toBe(1);
    } finally {
      await observer.close();
    }
  });
});
