// A cluster that cannot serve exits non-zero and leaves nothing running: a worker that cannot start, one that keeps dying.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, tempDataDir, type CliProcess } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { until } from '../faults/support/load-loop.js';
import { alive, workerPids } from './worker-processes.js';

describe('a cluster that cannot serve', () => {
  const dirs: string[] = [];
  const started: CliProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    env = {
      DATABASE_URL: await createEmptyDatabase(),
      HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
      HALLMARK_WORKERS: '2',
      HALLMARK_LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    for (const cli of started) await cli.stop('SIGKILL').catch(() => undefined);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(extra: Record<string, string>): Promise<CliProcess> {
    const dir = await tempDataDir('hallmark-worker-give-up-');
    dirs.push(dir);
    const cli = startCli(['server'], { ...env, HALLMARK_DATA_DIR: dir, ...extra });
    started.push(cli);
    return cli;
  }

  it('exits 1 naming why when a worker cannot start (its port is taken)', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const cli = await start({ HALLMARK_LISTEN: `127.0.0.1:${port}` });
      expect(await cli.exited(90_000)).toBe(1);
      expect(cli.stderr()).toMatch(/worker \d did not start: .*EADDRINUSE/);
      expect(cli.stdout()).not.toMatch(/listening on/);
      expect(workerPids(cli.child.pid as number)).toEqual([]);
    } finally {
      taken.close();
    }
  }, 120_000);

  it('gives up after five quick deaths of a worker in a row, stopping the others, and exits 1', async () => {
    const cli = await start({ HALLMARK_LISTEN: '127.0.0.1:0' });
    await cli.waitFor(/listening on/, 90_000);
    const primary = cli.child.pid as number;
    const [, survivor] = workerPids(primary).sort((a, b) => a - b);
    const killed = new Set<number>();
    // Kill every worker but the survivor as soon as it appears: each replacement dies young.
    await until(
      'the primary to give up',
      () => {
        if (cli.child.exitCode !== null) return true;
        for (const pid of workerPids(primary)) {
          if (pid === survivor || killed.has(pid)) continue;
          killed.add(pid);
          process.kill(pid, 'SIGKILL');
        }
        return false;
      },
      90_000,
      20,
    );
    expect(await cli.exited()).toBe(1);
    expect(killed.size).toBe(6); // the first worker, then five replacements
    expect(cli.stdout().match(/worker exited unexpectedly; restarting it/g)).toHaveLength(5);
    expect(cli.stderr()).toMatch(/worker 1 exited \(SIGKILL\) after 5 restarts in a row/);
    expect(alive(survivor as number)).toBe(false);
  }, 120_000);
});
