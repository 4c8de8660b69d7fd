// The retention policy on PostgreSQL: rows past the online period archived on a tick, nothing lost on failure.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import {
  AuditRetention,
  segmentFiles,
  startAuditCheckpoints,
  type AuditCheckpoints,
} from '../../src/checkpoint/index.js';
import { verifyWrittenSegment } from '../../src/checkpoint/archive-verification.js';
import { MasterKey } from '../../src/crypto/index.js';
import { ADVISORY_LOCKS, type Database } from '../../src/db/index.js';
import { runCli } from '../helpers/cli-process.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { codeOf } from '../helpers/error-code.js';
import { appendRows } from '../sink/sink-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DAY = 86_400_000;

async function count(db: Database, sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
}

describe('the automatic audit archive (HALLMARK_AUDIT_RETENTION_ONLINE)', () => {
  let dir: string;
  let url: string;
  let db: Database;
  let audit: PgAuditLog;
  let checkpoints: AuditCheckpoints;
  let retention: AuditRetention;
  const clock = new ManualClock(Date.now() - 40 * DAY);

  async function checkpointAfter(n: number): Promise<number> {
    await appendRows(audit, n, `r${clock.now()}-`);
    clock.advance(60_000);
    const signed = await checkpoints.checkpointer.round();
    if (signed === undefined) throw new Error('no checkpoint signed');
    return signed.seq;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-retention-'));
    ({ url, db } = await createMigratedDatabase());
    audit = new PgAuditLog(db, clock);
    checkpoints = await startAuditCheckpoints({
      db,
      master: new MasterKey(randomBytes(32)),
      clock,
      audit,
      log: quiet,
      metrics: new Registry(),
      trustDomain: 'example.org',
      intervalMs: 60_000,
      keyRotationMs: 30 * DAY,
      tick: false,
    });
    retention = new AuditRetention({
      db,
      audit,
      clock,
      log: quiet,
      metrics: new Registry(),
      dir: path.join(dir, 'archive'),
      onlineMs: 5 * DAY,
    });
  });
  afterAll(async () => {
    await retention?.stop();
    await checkpoints?.stop();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('archives only rows older than the online period, into a segment audit verify accepts', async () => {
    const old = await checkpointAfter(20);
    clock.advance(10 * DAY);
    const recent = await checkpointAfter(20);
    clock.advance(DAY); // the first rows are 11 days old, the others 1 day
    const archive = path.join(dir, 'archive');

    // Another replica holding the archive lock: this one waits for no one and deletes nothing.
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.auditArchive]);
      expect(await retention.round()).toEqual([]);
    });
    expect(await count(db, 'SELECT min(seq) AS n FROM audit_log')).toBe(1);

    const [segment, ...more] = await retention.round();
    expect(more).toEqual([]);
    expect(segment?.manifest).toMatchObject({ first: 1, last: old, rows: old });
    expect(await count(db, 'SELECT min(seq) AS n FROM audit_log')).toBe(old + 1);
    expect(await count(db, `SELECT count(*) AS n FROM audit_log WHERE seq <= ${recent}`)).toBe(
      recent - old,
    );
    const marks = await db.query<{ actor: string; target: string }>(
      "SELECT actor, target FROM audit_log WHERE action = 'audit.archived'",
    );
    expect(marks.rows).toEqual([
      { actor: 'system', target: `seq 1-${old} sha256:${segment!.manifest.sha256}` },
    ]);

    // Nothing more is due: a round writes no row and no file.
    const head = await count(db, 'SELECT seq AS n FROM audit_head');
    expect(await retention.round()).toEqual([]);
    expect(await count(db, 'SELECT seq AS n FROM audit_head')).toBe(head);
    expect((await readdir(archive)).length).toBe(2);

    // The read-back check that runs before any row is deleted refuses a segment changed on disk.
    const files = segmentFiles(archive, 1, old);
    await expect(verifyWrittenSegment(files, segment!.manifest)).resolves.toBeUndefined();
    const text = await readFile(files.rows, 'utf8');
    await writeFile(files.rows, text.replace('"actor":"key:admin"', '"actor":"key:other"'));
    expect(await codeOf(verifyWrittenSegment(files, segment!.manifest))).toBe(
      'ERR_AUDIT_ARCHIVE_DIR',
    );
    await writeFile(files.rows, text);

    const offline = await runCli(['audit', 'verify', '--archive', archive]);
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('archive: 1 segment');
    const live = await runCli(['audit', 'verify', '--archive', archive], { DATABASE_URL: url });
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
  });

  it('a segment that cannot be written deletes nothing, is audited, and is retried next tick', async () => {
    const archive = path.join(dir, 'archive');
    const first = await count(db, 'SELECT min(seq) AS n FROM audit_log');
    const closing = await count(db, 'SELECT max(seq) AS n FROM audit_checkpoints');
    clock.advance(10 * DAY); // every row is now past the online period
    const rowsBefore = await count(db, 'SELECT count(*) AS n FROM audit_log');
    // A directory where the segment's rows file goes: the write fails midway, after the lock.
    const obstacle = `${segmentFiles(archive, first, closing).rows}.tmp`;
    await mkdir(obstacle);

    expect(await codeOf(retention.round())).toBe('ERR_AUDIT_ARCHIVE_DIR');
    expect(await count(db, 'SELECT min(seq) AS n FROM audit_log')).toBe(first);
    // Every row still there, plus the refusal's own row.
    expect(await count(db, 'SELECT count(*) AS n FROM audit_log')).toBe(rowsBefore + 1);
    const denied = await db.query<{ reason: string }>(
      "SELECT reason FROM audit_log WHERE action = 'audit.archive.denied'",
    );
    expect(denied.rows).toEqual([{ reason: 'ERR_AUDIT_ARCHIVE_DIR' }]);
    expect((await readdir(archive)).filter((f) => !f.endsWith('.tmp')).length).toBe(2);

    await rm(obstacle, { recursive: true });
    const [segment] = await retention.round();
    expect(segment?.manifest).toMatchObject({ first, last: closing });
    const offline = await runCli(['audit', 'verify', '--archive', archive]);
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('archive: 2 segments');
  });
});
