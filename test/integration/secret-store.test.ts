// PgSecretStore against a real migrated database: sealing at rest, swaps, versions, concurrency.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { parseSecretPath, PgSecretStore } from '../../src/secrets/index.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

const ACTOR = 'spiffe://hallmark.local/ns/payments/sa/api';

describe('PgSecretStore', () => {
  let db: Database;
  let store: PgSecretStore;
  const master = new MasterKey(randomBytes(32));
  const clock = new ManualClock();

  beforeAll(async () => {
    ({ db } = await createMigratedDatabase());
    store = new PgSecretStore({ db, master, clock, maxValueBytes: 1024 });
  });

  afterAll(async () => {
    await db.close();
  });

  it('keeps no plaintext in any column of either table', async () => {
    const value = `plaintext-marker-${randomBytes(8).toString('hex')}`;
    await store.put(parseSecretPath('rest/a'), value, ACTOR);
    await store.put(parseSecretPath('rest/a'), value, ACTOR);
    const needles = [
      value,
      Buffer.from(value).toString('hex'),
      Buffer.from(value).toString('base64'),
    ];
    for (const table of ['secret_versions', 'secret_heads']) {
      const columns = await db.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1',
        [table],
      );
      expect(columns.rows.length).toBeGreaterThan(1);
      for (const { column_name } of columns.rows) {
        // Every column as text: bytea renders as \x<hex>, so a plaintext copy would show up in
        // one of the needles' forms.
        const rows = await db.query<{ text: string }>(
          `SELECT ${column_name}::text AS text FROM ${table}`,
        );
        for (const { text } of rows.rows) {
          for (const needle of needles) expect(text).not.toContain(needle);
        }
      }
    }
    expect((await store.get(parseSecretPath('rest/a'))).value).toBe(value);
  });

  it('fails both reads closed when two rows swap ciphertexts and wrapped keys', async () => {
    await store.put(parseSecretPath('swap/one'), 'value-one', ACTOR);
    await store.put(parseSecretPath('swap/two'), 'value-two', ACTOR);
    await db.query(`
      UPDATE secret_versions AS t
         SET ciphertext = o.ciphertext, wrapped_key = o.wrapped_key
        FROM secret_versions AS o
       WHERE (t.path, o.path) IN (('swap/one', 'swap/two'), ('swap/two', 'swap/one'))`);
    expect(await codeOf(store.get(parseSecretPath('swap/one')))).toBe('ERR_SECRET_INTEGRITY');
    expect(await codeOf(store.get(parseSecretPath('swap/two')))).toBe('ERR_SECRET_INTEGRITY');
    expect(await codeOf(store.getMany([parseSecretPath('swap/one')]))).toBe('ERR_SECRET_INTEGRITY');
  });

  it('fails closed when only the ciphertexts are swapped', async () => {
    await store.put(parseSecretPath('swapc/one'), 'value-one', ACTOR);
    await store.put(parseSecretPath('swapc/two'), 'value-two', ACTOR);
    await db.query(`
      UPDATE secret_versions AS t SET ciphertext = o.ciphertext
        FROM secret_versions AS o
       WHERE (t.path, o.path) IN (('swapc/one', 'swapc/two'), ('swapc/two', 'swapc/one'))`);
    expect(await codeOf(store.get(parseSecretPath('swapc/one')))).toBe('ERR_SECRET_INTEGRITY');
    expect(await codeOf(store.get(parseSecretPath('swapc/two')))).toBe('ERR_SECRET_INTEGRITY');
  });

  it('fails closed when a row is moved to another version number', async () => {
    await store.put(parseSecretPath('moved/x'), 'first', ACTOR);
    await store.put(parseSecretPath('moved/x'), 'second', ACTOR);
    // Replace version 2's key and ciphertext with version 1's: a rollback attack.
    await db.query(`
      UPDATE secret_versions AS t SET ciphertext = o.ciphertext, wrapped_key = o.wrapped_key
        FROM secret_versions AS o
       WHERE t.path = 'moved/x' AND t.version = 2 AND o.path = 'moved/x' AND o.version = 1`);
    expect(await codeOf(store.get(parseSecretPath('moved/x')))).toBe('ERR_SECRET_INTEGRITY');
    expect((await store.get(parseSecretPath('moved/x'), 1)).value).toBe('first');
  });

  it('fails closed under another master key', async () => {
    await store.put(parseSecretPath('other/master'), 'v', ACTOR);
    const other = new PgSecretStore({ db, master: new MasterKey(randomBytes(32)), clock });
    expect(await codeOf(other.get(parseSecretPath('other/master')))).toBe('ERR_SECRET_INTEGRITY');
  });

  it('keeps every version and returns an old one on request', async () => {
    const first = await store.put(parseSecretPath('versions/db'), 'one', ACTOR);
    clock.advance(1000);
    const second = await store.put(parseSecretPath('versions/db'), 'two', 'key:admin');
    expect([first.version, second.version]).toEqual([1, 2]);
    const latest = await store.get(parseSecretPath('versions/db'));
    expect(latest).toMatchObject({ version: 2, value: 'two', createdBy: 'key:admin' });
    expect(latest.createdAt.getTime()).toBe(clock.now());
    expect(await store.get(parseSecretPath('versions/db'), 1)).toMatchObject({
      version: 1,
      value: 'one',
    });
    expect(await codeOf(store.get(parseSecretPath('versions/db'), 3))).toBe('ERR_SECRET_NOT_FOUND');
    expect(await store.count('versions/')).toEqual({ paths: 1, versions: 2 });
  });

  it('gives 40 concurrent writers of one path distinct consecutive versions', async () => {
    const refs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.put(parseSecretPath('race/path'), `value-${i}`, ACTOR),
      ),
    );
    const versions = refs.map((r) => r.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Each version opens to the value its writer sent.
    for (const [i, ref] of refs.entries()) {
      expect((await store.get(parseSecretPath('race/path'), ref.version)).value).toBe(`value-${i}`);
    }
  });

  it('commits concurrent writers of one path with one audit row each, naming its version', async () => {
    const audit = new PgAuditLog(db, systemClock);
    const event = (version: number) => ({
      actor: ACTOR,
      action: 'secret.write' as const,
      target: `grouped/x@v${version}`,
      outcome: 'success' as const,
    });
    const refs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.put(parseSecretPath('grouped/x'), `value-${i}`, ACTOR, {
          audit: { log: audit, event },
        }),
      ),
    );
    expect(refs.map((r) => r.version)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const [i, ref] of refs.entries())
      expect((await store.get(parseSecretPath('grouped/x'), ref.version)).value).toBe(`value-${i}`);
    await audit.settle();
    const rows = await db.query<{ target: string }>(
      "SELECT target FROM audit_log WHERE target LIKE 'grouped/x@%' ORDER BY seq",
    );
    expect(rows.rows.map((r) => r.target)).toEqual(refs.map((r) => `grouped/x@v${r.version}`));
    await audit.stop();
  });

  it('fails every writer of a batch whose audit rows fail, and consumes no version', async () => {
    await store.put(parseSecretPath('grouped/y'), 'kept', ACTOR);
    const down = new MemoryAuditLog(systemClock);
    down.failing = true;
    const event = () => ({
      actor: ACTOR,
      action: 'secret.write' as const,
      target: 'grouped/y',
      outcome: 'success' as const,
    });
    const failed = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        store.put(parseSecretPath('grouped/y'), 'dropped', ACTOR, { audit: { log: down, event } }),
      ),
    );
    expect(failed.map((f) => f.status)).toEqual(Array(5).fill('rejected'));
    expect(await store.get(parseSecretPath('grouped/y'))).toMatchObject({
      version: 1,
      value: 'kept',
    });
    expect((await store.put(parseSecretPath('grouped/y'), 'next', ACTOR)).version).toBe(2);
  });

  it('rolls the write back when its audit row fails (no write without its audit row)', async () => {
    await store.put(parseSecretPath('audited/x'), 'kept', ACTOR);
    const down = new MemoryAuditLog(systemClock);
    down.failing = true;
    const versions: number[] = [];
    const failing = store.put(parseSecretPath('audited/x'), 'dropped', ACTOR, {
      audit: {
        log: down,
        event: (version) => {
          versions.push(version);
          return { actor: ACTOR, action: 'secret.write', target: 'x', outcome: 'success' };
        },
      },
    });
    expect(await codeOf(failing)).toBe('ERR_AUDIT_UNAVAILABLE');
    expect(versions).toEqual([2]);
    expect(await store.get(parseSecretPath('audited/x'))).toMatchObject({
      version: 1,
      value: 'kept',
    });
    expect((await store.put(parseSecretPath('audited/x'), 'next', ACTOR)).version).toBe(2);
  });

  it('reads a batch in one call and names the first missing path', async () => {
    await store.put(parseSecretPath('batch/a'), 'A1', ACTOR);
    await store.put(parseSecretPath('batch/a'), 'A2', ACTOR);
    await store.put(parseSecretPath('batch/b'), 'B1', ACTOR);
    const got = await store.getMany([parseSecretPath('batch/b'), parseSecretPath('batch/a')]);
    expect([...got.keys()]).toEqual(['batch/b', 'batch/a']);
    expect(got.get('batch/a')).toMatchObject({ version: 2, value: 'A2' });
    expect(got.get('batch/b')).toMatchObject({ version: 1, value: 'B1' });
    const missing = await store
      .getMany([
        parseSecretPath('batch/a'),
        parseSecretPath('batch/none'),
        parseSecretPath('batch/zzz'),
      ])
      .catch((e) => e);
    expect(missing).toMatchObject({ code: 'ERR_SECRET_NOT_FOUND', path: 'batch/none' });
  });

  // Bad paths never get here: the store takes a parsed SecretPath (test/secrets/secret-path.test.ts).
  it('refuses bad values by code, without touching the database', async () => {
    const before = await store.count();
    expect(await codeOf(store.put(parseSecretPath('ok/big'), 'x'.repeat(1025), ACTOR))).toBe(
      'ERR_SECRET_TOO_LARGE',
    );
    expect(await codeOf(store.put(parseSecretPath('ok/big'), 'é'.repeat(513), ACTOR))).toBe(
      'ERR_SECRET_TOO_LARGE',
    );
    expect(await codeOf(store.put(parseSecretPath('ok/bad'), 'a\ud800b', ACTOR))).toBe(
      'ERR_SECRET_BAD_VALUE',
    );
    expect(await store.count()).toEqual(before);
    // The limit itself is accepted, counted in UTF-8 bytes.
    expect((await store.put(parseSecretPath('ok/limit'), 'é'.repeat(512), ACTOR)).version).toBe(1);
  });

  it('round-trips non-ASCII values exactly', async () => {
    const value = 'pässwörd 🔑 \u0000 end\n';
    await store.put(parseSecretPath('unicode/v'), value, ACTOR);
    expect((await store.get(parseSecretPath('unicode/v'))).value).toBe(value);
  });

  it('crypto-shreds a scope: every key and ciphertext under the prefix, nothing else', async () => {
    await store.put(parseSecretPath('osb/inst_1/a'), 'a', ACTOR);
    await store.put(parseSecretPath('osb/inst_1/a'), 'a2', ACTOR);
    await store.put(parseSecretPath('osb/inst_1/deep/b'), 'b', ACTOR);
    await store.put(parseSecretPath('osb/inst_10/c'), 'c', ACTOR);
    // `_` is a LIKE wildcard: 'osb/inst_1/' must not match 'osb/instX1/'.
    await store.put(parseSecretPath('osb/instX1/d'), 'd', ACTOR);
    expect(await store.deletePrefix('osb/inst_1/')).toEqual({ paths: 2, versions: 3 });
    const left = await db.query<{ path: string }>(
      "SELECT path FROM secret_versions WHERE path LIKE 'osb/%'",
    );
    expect(new Set(left.rows.map((r) => r.path))).toEqual(
      new Set(['osb/inst_10/c', 'osb/instX1/d']),
    );
    expect(await codeOf(store.get(parseSecretPath('osb/inst_1/a')))).toBe('ERR_SECRET_NOT_FOUND');
    // A new secret at a shredded path starts again at version 1.
    expect((await store.put(parseSecretPath('osb/inst_1/a'), 'new', ACTOR)).version).toBe(1);
    expect(await codeOf(store.deletePrefix(''))).toBe('ERR_SECRET_BAD_PATH');
    expect(await codeOf(store.deletePrefix('osb'))).toBe('ERR_SECRET_BAD_PATH');
    expect(await codeOf(store.deletePrefix('/'))).toBe('ERR_SECRET_BAD_PATH');
  });
});
