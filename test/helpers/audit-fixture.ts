// A migrated database with a real audit log for each test, and a second connection pool to read
// what the first committed (or to play another server).
import { afterEach, beforeEach } from 'vitest';
import { PgAuditLog, type AuditRecord } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database } from '../../src/db/index.js';
import { createMigratedDatabase } from './database.js';

/** Filled before each test; the same object throughout the file. */
export interface AuditFixture {
  db: Database;
  /** Another pool on the same database. */
  other: Database;
  log: PgAuditLog;
  /** The records the log's sink received, in order. */
  readonly sunk: AuditRecord[];
}

/**
 * Registers the set-up and tear-down of an {@link AuditFixture} for every test of the calling
 * file: a fresh migrated database, a `changes (id text PRIMARY KEY)` table for the tests'
 * changes, the log, and the other pool.
 */
export function useAuditFixture(options: { otherPoolSize?: number } = {}): AuditFixture {
  const fixture = { sunk: [] as AuditRecord[] } as unknown as AuditFixture;
  beforeEach(async () => {
    const created = await createMigratedDatabase();
    fixture.db = created.db;
    fixture.other = new Database(created.url, { max: options.otherPoolSize ?? 10 });
    fixture.sunk.length = 0;
    fixture.log = new PgAuditLog(created.db, systemClock, (record) => fixture.sunk.push(record));
    await created.db.query('CREATE TABLE changes (id text PRIMARY KEY)');
  });
  afterEach(async () => {
    await fixture.log.stop();
    await fixture.other.close();
    await fixture.db.close();
  });
  return fixture;
}
