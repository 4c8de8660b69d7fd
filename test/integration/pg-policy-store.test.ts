// PgPolicyStore on PostgreSQL: overlapping refreshes never install an older policy.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/audit/index.js';
import { ManualClock } from '../../src/clock/index.js';
import { Database } from '../../src/db/index.js';
import { PgPolicyStore } from '../../src/policy/index.js';
import { createMigratedDatabase } from '../helpers/database.js';

const OPTIONS = { trustDomain: 'hallmark.local', maxTtlSeconds: 86_400 };
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

    expect(await writer.load(documentFor(1), 'key:admin')).toBe(1);
    // Refresh A reads version 1, then stalls before installing it.
    const slow = replicaDb.delayNextRead();
    const refreshA = replica.refresh();
    await slow.reached;

    // Meanwhile version 2 is loaded and refresh B installs it.
    expect(await writer.load(documentFor(2), 'key:admin')).toBe(2);
    await replica.refresh();
    expect(replica.version()).toBe(2);

    // A finally finishes with its older row: the replica must not go back to version 1.
    slow.release();
    await refreshA;
    expect(replica.version()).toBe(2);
    expect(replica.current().sha256).toBe(sha256(documentFor(2)));
    expect(replica.current().registrations[0]?.namespace).toBe('team-2');
  });
});
