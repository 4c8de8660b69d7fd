// PgPolicyStore on PostgreSQL: deny-all until loaded, versions, a bad document changes nothing,
// overlapping refreshes never install an older policy, and a load reports its own commit.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, type TransactionOptions } from '../../src/db/index.js';
import { isHallmarkError } from '../../src/errors/index.js';
import { buildApp, createMetricsRegistry } from '../../src/http/index.js';
import { policyRoutes } from '../../src/http/routes/policy-routes.js';
import {
  PgPolicyStore,
  PolicyInvalidError,
  canAccess,
  findRegistration,
  type CompilePolicyOptions,
} from '../../src/policy/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { OPTIONS, fixture } from '../policy/policy-test-helpers.js';
import { tableVerifier } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls } from '../secrets/helpers/test-tls.js';

const API = { namespace: 'payments', serviceAccount: 'api', labels: { app: 'api' } };
const REFRESH_READ = /^SELECT version, document FROM policies/;

/**
 * A database whose next policy read runs at once but hands its rows back only when the test
 * says so: the slow refresh of a replica under load, made deterministic.
 */
class DelayableDatabase extends Database {
  #next: { reached: () => void; released: Promise<void> } | undefined;

  /** Delays the next refresh read's answer; resolves `reached` once the rows are read. */
  delayNextRead(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    this.#next = { reached, released };
    return { reached: reachedPromise, release };
  }

  /** Runs `hook` after the next transaction's COMMIT, before its caller sees the result. */
  afterNextCommit(hook: () => Promise<void>): void {
    this.#afterCommit = hook;
  }
  #afterCommit: (() => Promise<void>) | undefined;

  override async transaction<T>(
    fn: (client: pg.PoolClient) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T> {
    const hook = this.#afterCommit;
    this.#afterCommit = undefined;
    const result = await super.transaction(fn, options);
    await hook?.();
    return result;
  }

  override async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const delay = typeof text === 'string' && REFRESH_READ.test(text) ? this.#next : undefined;
    if (delay !== undefined) this.#next = undefined;
    const result = await super.query<R>(text, values);
    if (delay !== undefined) {
      delay.reached();
      await delay.released;
    }
    return result;
  }
}

const documentFor = (n: number) => `workloads:\n  - {namespace: team-${n}}\n`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('PgPolicyStore refresh', () => {
  let url: string;
  let writerDb: Database;
  let replicaDb: DelayableDatabase;

  beforeAll(async () => {
    const created = await createMigratedDatabase();
    url = created.url;
    writerDb = created.db;
    replicaDb = new DelayableDatabase(url, { max: 4 });
  });

  afterAll(async () => {
    await replicaDb.close();
    await writerDb.close();
  });

  it('keeps the newer policy when an older refresh finishes last (NOTIFY + poll overlap)', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog(clock);
    const writer = await PgPolicyStore.open(writerDb, OPTIONS, clock, audit);
    const replica = await PgPolicyStore.open(replicaDb, OPTIONS, clock, audit);
    // No NOTIFY or poll of its own: the test drives both refreshes.
    replica.close();
    writer.close();

    expect((await writer.load(documentFor(1), 'key:admin')).version).toBe(1);
    // Refresh A reads version 1, then stalls before installing it.
    const slow = replicaDb.delayNextRead();
    const refreshA = replica.refresh();
    await slow.reached;

    // Meanwhile version 2 is loaded and refresh B installs it.
    expect((await writer.load(documentFor(2), 'key:admin')).version).toBe(2);
    await replica.refresh();
    expect(replica.version()).toBe(2);

    // A finally finishes with its older row: the replica must not go back to version 1.
    slow.release();
    await refreshA;
    expect(replica.version()).toBe(2);
    expect(replica.current().sha256).toBe(sha256(documentFor(2)));
    expect(replica.current().registrations[0]?.namespace).toBe('team-2');
  });

  it('reports the version and hash it committed, though a newer one is in force when it returns', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog(clock);
    const writer = await PgPolicyStore.open(writerDb, OPTIONS, clock, audit);
    const replica = await PgPolicyStore.open(replicaDb, OPTIONS, clock, audit);
    replica.close();
    writer.close();
    const before = (await writer.load(documentFor(10), 'key:admin')).version;
    await replica.refresh();

    // Between the replica's COMMIT and its answer, another replica loads a newer document
    // and this one installs it (its NOTIFY arriving first, as under a busy event loop).
    replicaDb.afterNextCommit(async () => {
      await writer.load(documentFor(12), 'key:admin');
      await replica.refresh();
    });
    const loaded = await replica.load(documentFor(11), 'key:admin');

    expect(loaded).toEqual({ version: before + 1, sha256: sha256(documentFor(11)) });
    const stored = await writerDb.query<{ sha256: string; document: string }>(
      'SELECT sha256, document FROM policies WHERE version = $1',
      [loaded.version],
    );
    expect(stored.rows).toEqual([{ sha256: loaded.sha256, document: documentFor(11) }]);
    expect(replica.version()).toBe(before + 2);
    expect(replica.current().sha256).toBe(sha256(documentFor(12)));
  });

  it('PUT /v1/policy answers with the version and hash it committed, not the policy in force', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog(clock);
    const writer = await PgPolicyStore.open(writerDb, OPTIONS, clock, audit);
    const replica = await PgPolicyStore.open(replicaDb, OPTIONS, clock, audit);
    replica.close();
    writer.close();
    await replica.refresh();
    const tls = makeTestTls();
    const material = { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: [tls.caPem] };
    const app = await buildApp({
      audit,
      tls: { current: () => material, onChange: () => () => undefined },
      readiness: async () => ({ ready: true }),
      metrics: createMetricsRegistry(),
      logger: false,
    });
    await app.register(policyRoutes, {
      store: replica,
      audit,
      tokens: tableVerifier(),
      maxBytes: 65_536,
    });
    try {
      replicaDb.afterNextCommit(async () => {
        await writer.load(documentFor(22), 'key:admin');
        await replica.refresh();
      });
      const put = await app.inject({
        method: 'PUT',
        url: '/v1/policy',
        headers: { authorization: 'Bearer admin-token', 'content-type': 'application/yaml' },
        payload: documentFor(21),
      });
      expect(put.statusCode).toBe(200);
      const answered = put.json<{ version: number; sha256: string }>();
      expect(answered.sha256).toBe(sha256(documentFor(21)));
      const stored = await writerDb.query<{ sha256: string }>(
        'SELECT sha256 FROM policies WHERE version = $1',
        [answered.version],
      );
      expect(stored.rows).toEqual([{ sha256: answered.sha256 }]);
      expect(replica.current().sha256).toBe(sha256(documentFor(22)));
    } finally {
      await app.close();
    }
  });
});

describe('PgPolicyStore', () => {
  const databases: Database[] = [];
  const stores: PgPolicyStore[] = [];

  /** A store on a fresh database: no policy stored yet. */
  async function freshStore(options: CompilePolicyOptions = OPTIONS): Promise<PgPolicyStore> {
    const { db } = await createMigratedDatabase();
    databases.push(db);
    const clock = new ManualClock();
    const store = await PgPolicyStore.open(db, options, clock, new MemoryAuditLog(clock));
    stores.push(store);
    return store;
  }

  afterAll(async () => {
    for (const store of stores) store.close();
    await Promise.all(databases.map((db) => db.close()));
  });

  it('starts at version 0 with the deny-all policy', async () => {
    const store = await freshStore();
    expect(store.version()).toBe(0);
    expect(findRegistration(store.current(), API)).toBeNull();
    expect(canAccess(store.current(), 'key:admin', 'read', parseSecretPath('payments/db'))).toBe(
      false,
    );
  });

  it('replaces the policy and counts versions', async () => {
    const store = await freshStore();
    expect(await store.replace(fixture('example.yaml'))).toBe(1);
    expect(store.version()).toBe(1);
    expect(findRegistration(store.current(), API)?.index).toBe(0);
    expect(await store.replace('{}')).toBe(2);
    expect(findRegistration(store.current(), API)).toBeNull();
  });

  it('keeps the old policy and version when the new document is invalid', async () => {
    const store = await freshStore();
    await store.replace(fixture('example.yaml'));
    const before = store.current();
    const error: unknown = await store
      .replace(fixture('several-problems.yaml'))
      .catch((e: unknown) => e);
    expect(isHallmarkError(error, 'ERR_POLICY_INVALID')).toBe(true);
    expect(error).toBeInstanceOf(PolicyInvalidError);
    expect((error as PolicyInvalidError).problems.length).toBeGreaterThan(1);
    expect(store.version()).toBe(1);
    expect(store.current()).toBe(before);
  });

  it('applies its compile options (maximum TTL) to every replacement', async () => {
    const store = await freshStore({ ...OPTIONS, maxTtlSeconds: 600 });
    const error: unknown = await store
      .replace('workloads:\n  - {namespace: a, ttl: 1h}\n')
      .catch((e: unknown) => e);
    expect(isHallmarkError(error, 'ERR_POLICY_INVALID')).toBe(true);
    expect(await store.replace('workloads:\n  - {namespace: a, ttl: 10m}\n')).toBe(1);
  });
});
