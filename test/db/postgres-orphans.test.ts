// A backend busy in a long query outlives its killed postmaster and blocks a restart until it is ended.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/index.js';
import { endOrphans, findOrphans } from '../../src/db/postgres-orphans.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { isAlive, killPostmaster } from '../faults/support/postmaster.js';

const SETTINGS = { fsync: 'off' };

describe.skipIf(!existsSync('/proc/self/cwd'))('orphans of a killed postmaster', () => {
  const clusters: EmbeddedCluster[] = [];
  let dir: string | undefined;

  afterAll(async () => {
    for (const cluster of clusters) await cluster.stop();
    if (dir) {
      await endOrphans(path.join(dir, 'pg', 'cluster'), 0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('are found by their data directory, block a restart, and are ended', async () => {
    dir = await tempDataDir('hallmark-orphans-');
    const pgDir = path.join(dir, 'pg');
    const clusterDir = path.join(pgDir, 'cluster');
    const first = await startEmbeddedPostgres({ dir: pgDir, settings: SETTINGS });
    clusters.push(first);
    const client = new pg.Client({ connectionString: first.url });
    client.on('error', () => undefined);
    await client.connect();
    // CPU-bound: it never waits, so it does not notice the postmaster's death for minutes.
    const busy = client
      .query('SELECT count(*) FROM generate_series(1, 10000000000)')
      .catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const postmaster = await killPostmaster(clusterDir);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(isAlive(postmaster)).toBe(false);
    const orphans = await findOrphans(clusterDir);
    expect(orphans.length).toBeGreaterThan(0);
    // PostgreSQL's own guard: it will not start while they hold the shared memory.
    await expect(startEmbeddedPostgres({ dir: pgDir, settings: SETTINGS })).rejects.toThrow(
      /shared memory/,
    );

    const report = await endOrphans(clusterDir);
    expect(report.found).toBe(orphans.length);
    // Gone (at most zombies, which hold no memory, waiting for whoever adopted them to reap).
    expect(await findOrphans(clusterDir)).toEqual([]);
    await busy;
    await client.end().catch(() => undefined);

    const second = await startEmbeddedPostgres({ dir: pgDir, settings: SETTINGS });
    clusters.push(second);
    const check = new pg.Client({ connectionString: second.url });
    await check.connect();
    expect((await check.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await check.end();
  });

  it('finds nothing for a directory no PostgreSQL runs in', async () => {
    expect(await findOrphans(path.join(process.cwd(), 'src'))).toEqual([]);
    expect(await findOrphans('/nonexistent/hallmark')).toEqual([]);
  });
});
