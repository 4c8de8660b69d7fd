// The secret cache against real PostgreSQL: reads after writes, two replicas kept current by
// NOTIFY, deletions, lost notifications, and the TTL. Counting each replica's queries shows
// which reads the cache answered.
import { parseSecretPath } from '../../src/secrets/index.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import { PgSecretStore } from '../../src/secrets/index.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';

const ACTOR = 'key:admin';

/** A database handle that counts the statements it runs. */
class CountingDatabase extends Database {
  queries = 0;
  override query: Database['query'] = (text, values) => {
    this.queries += 1;
    return super.query(text, values);
  };
}

describe('PgSecretStore cache', () => {
  let url: string;
  let setup: Database;
  const handles: Database[] = [];
  const master = new MasterKey(randomBytes(32));
  const clock = new ManualClock();

  beforeAll(async () => {
    ({ url, db: setup } = await createMigratedDatabase());
    handles.push(setup);
  });

  afterAll(async () => {
    for (const handle of handles) await handle.close();
  });

  async function replica(cacheBytes = 1_000_000): Promise<{
    store: PgSecretStore;
    db: CountingDatabase;
  }> {
    const db = new CountingDatabase(url, { max: 4 });
    handles.push(db);
    const store = new PgSecretStore({
      db,
      master,
      clock,
      cache: { maxBytes: cacheBytes, ttlMs: 30_000 },
    });
    await store.listen();
    return { store, db };
  }

  /**
   * Reads `path` until a read needs no statement: a fill is dropped when any change notice
   * arrives during its query, and the notices of a test's own writes arrive asynchronously.
   */
  async function untilCached(store: PgSecretStore, db: CountingDatabase, path: string) {
    expect(
      await eventually(
        async () => (await queriesDuring(db, () => store.get(parseSecretPath(path)))) === 0,
      ),
    ).toBe(true);
  }

  /** Statements `db` ran while `fn` did. */
  async function queriesDuring(db: CountingDatabase, fn: () => Promise<unknown>): Promise<number> {
    const before = db.queries;
    await fn();
    return db.queries - before;
  }

  it('answers repeated reads without PostgreSQL, and a write is visible at once on its replica', async () => {
    const { store, db } = await replica();
    await store.put(parseSecretPath('same/a'), 'one', ACTOR);
    await store.put(parseSecretPath('same/b'), 'bee', ACTOR);
    expect((await store.get(parseSecretPath('same/a'))).value).toBe('one');
    await untilCached(store, db, 'same/a');
    expect(
      await queriesDuring(db, async () => {
        const both = await store.getMany([parseSecretPath('same/a'), parseSecretPath('same/b')]);
        expect(both.get('same/b')?.value).toBe('bee');
      }),
    ).toBe(1); // only same/b was not cached yet
    await store.put(parseSecretPath('same/a'), 'two', ACTOR);
    const read = await store.get(parseSecretPath('same/a'));
    expect([read.version, read.value]).toEqual([2, 'two']);
  });

  it("another replica's write reaches this replica's cache by NOTIFY", async () => {
    const a = await replica();
    const b = await replica();
    await a.store.put(parseSecretPath('cross/a'), 'old', ACTOR);
    expect((await b.store.get(parseSecretPath('cross/a'))).value).toBe('old');
    await untilCached(b.store, b.db, 'cross/a');
    await a.store.put(parseSecretPath('cross/a'), 'new', ACTOR);
    expect(
      await eventually(async () => (await b.store.get(parseSecretPath('cross/a'))).value === 'new'),
    ).toBe(true);
  });

  it("another replica's deletion of a scope makes its paths 404 here", async () => {
    const a = await replica();
    const b = await replica();
    await a.store.put(parseSecretPath('scope-x/a'), 'value', ACTOR);
    await a.store.put(parseSecretPath('scope-xy/a'), 'kept', ACTOR);
    await untilCached(b.store, b.db, 'scope-x/a');
    await untilCached(b.store, b.db, 'scope-xy/a');
    await a.store.deletePrefix('scope-x/');
    const gone = async (): Promise<boolean> =>
      b.store.get(parseSecretPath('scope-x/a')).then(
        () => false,
        (err: { code?: string }) => err.code === 'ERR_SECRET_NOT_FOUND',
      );
    expect(await eventually(gone)).toBe(true);
    expect(await queriesDuring(b.db, () => b.store.get(parseSecretPath('scope-xy/a')))).toBe(0);
  });

  it('a write rolled back by its failed audit row changes nothing anywhere', async () => {
    const a = await replica();
    const b = await replica();
    await a.store.put(parseSecretPath('rollback/a'), 'kept', ACTOR);
    await b.store.get(parseSecretPath('rollback/a'));
    const down = new MemoryAuditLog(systemClock);
    down.failing = true;
    const failed = a.store.put(parseSecretPath('rollback/a'), 'lost', ACTOR, {
      audit: {
        log: down,
        event: () => ({ actor: ACTOR, action: 'secret.write', target: 'x', outcome: 'success' }),
      },
    });
    await expect(failed).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect((await a.store.get(parseSecretPath('rollback/a'))).value).toBe('kept');
    expect((await b.store.get(parseSecretPath('rollback/a'))).value).toBe('kept');
  });

  it('reads PostgreSQL while notifications are down, and starts afresh when they return', async () => {
    const a = await replica();
    const b = await replica();
    for (const path of ['lost/a', 'lost/b']) {
      await a.store.put(parseSecretPath(path), 'v1', ACTOR);
      await a.store.put(parseSecretPath(path), 'v2', ACTOR);
      await untilCached(b.store, b.db, path);
    }
    // Cut every LISTEN connection, then change both paths behind the listeners' backs (a bare
    // UPDATE sends no NOTIFY): B must answer neither from what it cached before.
    await setup.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    await setup.query(`UPDATE secret_heads SET latest = 1 WHERE path IN ('lost/a', 'lost/b')`);
    expect(await eventually(() => !b.db.listening)).toBe(true);
    expect((await b.store.get(parseSecretPath('lost/a'))).value).toBe('v1');
    // lost/b is not read until the listener is back: the reconnect must have cleared it.
    expect(await eventually(() => b.db.listening, 10_000)).toBe(true);
    expect((await b.store.get(parseSecretPath('lost/b'))).value).toBe('v1');
  });

  it('re-reads an entry older than the TTL, and caches nothing when sized 0', async () => {
    const { store, db } = await replica();
    await store.put(parseSecretPath('ttl/a'), 'value', ACTOR);
    await untilCached(store, db, 'ttl/a');
    clock.advance(30_000);
    expect(await queriesDuring(db, () => store.get(parseSecretPath('ttl/a')))).toBe(1);
    const off = await replica(0);
    await off.store.get(parseSecretPath('ttl/a'));
    expect(await queriesDuring(off.db, () => off.store.get(parseSecretPath('ttl/a')))).toBe(1);
  });

  it('serves a given version from PostgreSQL, not from the cache of the newest', async () => {
    const { store, db } = await replica();
    await store.put(parseSecretPath('versions/a'), 'v1', ACTOR);
    await store.put(parseSecretPath('versions/a'), 'v2', ACTOR);
    expect((await store.get(parseSecretPath('versions/a'))).value).toBe('v2');
    expect(
      await queriesDuring(db, async () => {
        expect((await store.get(parseSecretPath('versions/a'), 1)).value).toBe('v1');
      }),
    ).toBe(1);
  });
});
