// Retention: `hallmark audit archive` and `audit verify --archive`, with real PostgreSQL and CLI processes.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import {
  readCheckpoints,
  startAuditCheckpoints,
  type AuditCheckpoints,
} from '../../src/checkpoint/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { runCli } from '../helpers/cli-process.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { appendRows } from '../sink/sink-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Chain {
  url: string;
  db: Database;
  audit: PgAuditLog;
  clock: ManualClock;
  checkpoints: AuditCheckpoints;
  /** Appends `n` rows, then signs a checkpoint at the head; returns its seq. */
  checkpointAfter(n: number): Promise<number>;
}

async function chain(): Promise<Chain> {
  const { url, db } = await createMigratedDatabase();
  const clock = new ManualClock(Date.now() - 86_400_000);
  const audit = new PgAuditLog(db, clock);
  const checkpoints = await startAuditCheckpoints({
    db,
    master: new MasterKey(randomBytes(32)),
    clock,
    audit,
    log: quiet,
    metrics: new Registry(),
    trustDomain: 'example.org',
    intervalMs: 60_000,
    keyRotationMs: 30 * 86_400_000,
    tick: false,
  });
  return {
    url,
    db,
    audit,
    clock,
    checkpoints,
    async checkpointAfter(n) {
      await appendRows(audit, n, `r${clock.now()}-`);
      clock.advance(60_000);
      const signed = await checkpoints.checkpointer.round();
      if (signed === undefined) throw new Error('no checkpoint signed');
      return signed.seq;
    },
  };
}

async function count(db: Database, sql: string): Promise<number> {
  return Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
}

describe('hallmark audit archive', () => {
  let dir: string;
  const chains: Chain[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-archive-'));
  });
  afterAll(async () => {
    for (const c of chains) {
      await c.checkpoints.stop();
      await c.db.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('archives up to the last checkpoint before the boundary; verify continues from it, online and offline', async () => {
    const c = await chain();
    chains.push(c);
    const first = await c.checkpointAfter(30);
    const second = await c.checkpointAfter(30);
    await appendRows(c.audit, 5, 'tail');
    const received = path.join(dir, 'received.jsonl');
    const signed = await readCheckpoints(c.db, 0, 10);
    await writeFile(received, signed.map((s) => JSON.stringify(s)).join('\n'));
    const archive = path.join(dir, 'segments');
    const env = { DATABASE_URL: c.url };

    const one = await runCli(
      ['audit', 'archive', '--before', String(second - 1), '--to', archive],
      env,
    );
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`archived rows 1–${first} (${first} rows`);
    expect(await count(c.db, 'SELECT min(seq) AS n FROM audit_log')).toBe(first + 1);
    expect(await count(c.db, 'SELECT seq AS n FROM audit_base')).toBe(first);
    const marks = await c.db.query<{ target: string; actor: string }>(
      "SELECT target, actor FROM audit_log WHERE action = 'audit.archived'",
    );
    const manifestName = (await readdir(archive)).find((f) => f.endsWith('.manifest.json'))!;
    const manifest = JSON.parse(await readFile(path.join(archive, manifestName), 'utf8'));
    expect(marks.rows).toEqual([
      {
        target: `seq 1-${first} sha256:${manifest.sha256}`,
        actor: `cli:${os.userInfo().username}`,
      },
    ]);
    expect(manifest).toMatchObject({ first: 1, last: first, checkpoint: { seq: first } });

    const live = await runCli(['audit', 'verify'], env);
    expect(live.code).toBe(0);
    expect(live.stdout).toContain(`retained after archived seq ${first}`);
    // A received checkpoint of the archived prefix needs the archive to be checked.
    const withoutArchive = await runCli(['audit', 'verify', '--checkpoints', received], env);
    expect(withoutArchive.code).toBe(0);
    expect(withoutArchive.stdout).toContain('1 received checkpoints lie in the archived prefix');

    // A second segment, by date: every row older than now (the rows are a day old).
    await c.checkpointAfter(3);
    const two = await runCli(
      ['audit', 'archive', '--before', new Date().toISOString(), '--to', archive],
      env,
    );
    expect(two.code).toBe(0);
    const offline = await runCli([
      'audit',
      'verify',
      '--archive',
      archive,
      '--checkpoints',
      received,
    ]);
    expect(offline.stderr).toBe('');
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('archive: 2 segments');
    expect(offline.stdout).toContain('received checkpoints: 2, 2 found in the archive');
    // The live chain goes on after the archive, and continues the segments.
    await c.checkpointAfter(4);
    const both = await runCli(
      ['audit', 'verify', '--archive', archive, '--checkpoints', received],
      env,
    );
    expect(both.stderr).toBe('');
    expect(both.code).toBe(0);
    expect(both.stdout).toContain('checkpoints: ');

    // A segment edited afterwards fails, by its digest and its chain.
    const rowsFile = path.join(archive, manifestName.replace('.manifest.json', '.jsonl'));
    const text = await readFile(rowsFile, 'utf8');
    await writeFile(rowsFile, text.replace('"actor":"key:admin"', '"actor":"key:other"'));
    const edited = await runCli(['audit', 'verify', '--archive', archive]);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/ERR_AUDIT_ARCHIVE_INVALID: segment 1-\d+: rows file digest/);
    expect(edited.stderr).toMatch(
      /ERR_AUDIT_ARCHIVE_INVALID: segment 1-\d+: broken at seq \d+: row content/,
    );
    await writeFile(rowsFile, text);
  });

  it('fails verify --archive when a segment between two others is missing', async () => {
    const c = await chain();
    chains.push(c);
    const env = { DATABASE_URL: c.url };
    const archive = path.join(dir, 'three');
    const ends: number[] = [];
    for (let i = 0; i < 3; i++) {
      ends.push(await c.checkpointAfter(10));
      const archived = await runCli(
        ['audit', 'archive', '--before', String(ends[i]! + 1), '--to', archive],
        env,
      );
      expect(archived.code).toBe(0);
    }
    const whole = await runCli(['audit', 'verify', '--archive', archive]);
    expect(whole.stderr).toBe('');
    expect(whole.stdout).toContain('archive: 3 segments');
    const middle = (await readdir(archive)).filter((f) =>
      f.startsWith(`audit-${String(ends[0]! + 1).padStart(20, '0')}-`),
    );
    expect(middle).toHaveLength(2);
    const aside = path.join(dir, 'aside');
    await mkdir(aside);
    for (const f of middle) await rename(path.join(archive, f), path.join(aside, f));
    // Offline, and against the database (whose chain still continues the last segment).
    for (const args of [[], ['--database-url', c.url]]) {
      const gap = await runCli(['audit', 'verify', '--archive', archive, ...args]);
      expect(gap.code).toBe(1);
      expect(gap.stderr).toContain(
        `ERR_AUDIT_ARCHIVE_INVALID: segment ${ends[1]! + 1}-${ends[2]} does not continue segment 1-${ends[0]}: rows ${ends[0]! + 1}–${ends[1]} missing or rewritten`,
      );
    }
  });

  it('refuses a boundary past the head, nothing to archive and an unwritable directory, deleting nothing', async () => {
    const c = await chain();
    chains.push(c);
    const env = { DATABASE_URL: c.url };
    await appendRows(c.audit, 4, 'early');
    const first = await c.checkpointAfter(20);
    const rows = await count(c.db, 'SELECT count(*) AS n FROM audit_log');
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    const cases: [string[], string][] = [
      [
        ['--before', String(first + 1000), '--to', path.join(dir, 'x')],
        'ERR_AUDIT_ARCHIVE_BEYOND_HEAD',
      ],
      [['--before', '2999-01-01', '--to', path.join(dir, 'x')], 'ERR_AUDIT_ARCHIVE_BEYOND_HEAD'],
      [['--before', '3', '--to', path.join(dir, 'x')], 'ERR_AUDIT_ARCHIVE_NOTHING'],
      [['--before', String(first + 1), '--to', path.join(file, 'sub')], 'ERR_AUDIT_ARCHIVE_DIR'],
    ];
    for (const [args, code] of cases) {
      const result = await runCli(['audit', 'archive', ...args], env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(`${code}:`);
      expect(result.stderr).toContain('nothing deleted');
    }
    const usage = await runCli(['audit', 'archive', '--before', 'yesterday', '--to', dir], env);
    expect(usage.code).toBe(2);
    await c.audit.settle();
    // Nothing deleted: every row is still there (plus the refusals' rows), no anchor, no files.
    expect(await count(c.db, 'SELECT min(seq) AS n FROM audit_log')).toBe(1);
    expect(await count(c.db, 'SELECT count(*) AS n FROM audit_log')).toBe(rows + cases.length);
    expect(await count(c.db, 'SELECT count(*) AS n FROM audit_base')).toBe(0);
    const denied = await c.db.query<{ reason: string; outcome: string }>(
      "SELECT reason, outcome FROM audit_log WHERE action = 'audit.archive.denied' ORDER BY seq",
    );
    expect(denied.rows).toEqual(cases.map(([, reason]) => ({ reason, outcome: 'denied' })));
    expect((await runCli(['audit', 'verify'], env)).code).toBe(0);
  });

  it('fails verify when a prefix is deleted without an archive, even up to a real checkpoint', async () => {
    const c = await chain();
    chains.push(c);
    const first = await c.checkpointAfter(10);
    await c.checkpointAfter(10);
    await c.db.query('DELETE FROM audit_log WHERE seq <= $1', [first]);
    await c.db.query(
      'INSERT INTO audit_base (seq, hash) SELECT seq, hash FROM audit_checkpoints WHERE seq = $1',
      [first],
    );
    const result = await runCli(['audit', 'verify'], { DATABASE_URL: c.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `ERR_AUDIT_CHAIN_BROKEN: rows up to seq ${first} were removed without an audit.archived row naming them`,
    );
  });
});
