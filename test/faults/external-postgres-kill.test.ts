// An external PostgreSQL (DATABASE_URL) whose postmaster is killed and later restarted: the server reconnects by itself.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database, startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/index.js';
import { parseSecretPath, PgSecretStore } from '../../src/secrets/index.js';
import { runCli, tempDataDir } from '../helpers/cli-process.js';
import { labelledCall, type LabelledOutcome } from './support/labelled-load.js';
import { secretVersionProblems } from './support/ledger-checks.js';
import { startLoad, until } from './support/load-loop.js';
import { killPostmaster, listenersSince, unauditedRequests } from './support/postmaster.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { apiKeyToken } from './support/workload.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';

/** The bound: ready again this soon after the database is back. */
const READY_AGAIN_MS = 15_000;
const UNAVAILABLE_CODES = ['ERR_DB_UNAVAILABLE', 'ERR_AUDIT_UNAVAILABLE'];

describe('external PostgreSQL killed with SIGKILL, restarted later by its operator', () => {
  let pgDir: string;
  let dataDir: string;
  let cluster: EmbeddedCluster | undefined;
  let server: ServerProcess | undefined;
  const masterKey = randomBytes(32);

  /** Starts the cluster the test owns; no supervision: its outage lasts until the test ends it. */
  async function startCluster(): Promise<EmbeddedCluster> {
    // Right after a kill the old backends may still hold shared memory: PostgreSQL refuses
    // to start until they are gone, so an operator (and this test) tries again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await startEmbeddedPostgres({ dir: path.join(pgDir, 'pg') });
      } catch (err) {
        if (attempt === 20) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  beforeAll(async () => {
    pgDir = await tempDataDir('hallmark-faults-extpg-');
    dataDir = await tempDataDir('hallmark-faults-extpg-server-');
    cluster = await startCluster();
  });

  afterAll(async () => {
    await server?.stop('SIGKILL').catch(() => undefined);
    await cluster?.stop();
    for (const dir of [pgDir, dataDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 while it is down and reconnects pool and LISTEN once it is back', async () => {
    const url = (cluster as EmbeddedCluster).url;
    server = await startServerProcess(dataDir, {
      DATABASE_URL: url,
      HALLMARK_MASTER_KEY: masterKey.toString('base64'),
      HALLMARK_RATE_LIMIT: '1000000',
      ...LIFTED_PREAUTH_LIMITS,
    });
    const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const admin = await apiKeyToken(server.client, 'admin', adminKey);
    const readValue = 'external-read-value';
    const put = await server.client.call('PUT', '/v1/secrets/ext/read', {
      body: { value: readValue },
      token: admin,
    });
    expect(put.status).toBe(200);
    const target = {
      client: server.client,
      adminToken: admin,
      writePaths: ['ext/a', 'ext/b'],
      readPath: 'ext/read',
      readValue,
      label: 'extpg',
    };
    const load = startLoad({ workers: 6, maxCalls: 50_000, maxMs: 60_000 }, (worker, call) =>
      labelledCall(target, worker, call),
    );
    const answered = (kind: LabelledOutcome['kind'], status: number, after = 0): number =>
      load.results.filter((o) => o.kind === kind && o.status === status && o.startedAt > after)
        .length;
    await until('successes before the kill', () => answered('write', 200) >= 40, 30_000);

    const killedAt = performance.now();
    const killedAtWall = new Date();
    await killPostmaster(path.join(pgDir, 'pg', 'cluster'));
    // Down for a while: nobody restarts it but the operator, and the server keeps answering.
    await until('refusals while it is down', () => answered('write', 503, killedAt) >= 10, 15_000);
    expect((await server.client.call('GET', '/readyz')).status).toBe(503);

    await cluster?.stop(); // the dead cluster's handle: stopping it must not wait forever
    cluster = await startCluster();
    const restartedAt = performance.now();
    const readyAfterMs = await until(
      '/readyz 200 after the restart',
      async () => (await server?.client.call('GET', '/readyz'))?.status === 200,
      READY_AGAIN_MS,
      50,
    );
    await until(
      'the LISTEN connection to return',
      async () => (await listenersSince(url, killedAtWall)) > 0,
      READY_AGAIN_MS,
      100,
    );
    await until(
      'successes after the restart',
      () => answered('write', 200, restartedAt + readyAfterMs) >= 20,
      15_000,
    );
    load.stop();
    const outcomes = await load.done;

    expect(server.cli.child.exitCode).toBeNull();
    expect(outcomes.filter((o) => o.status === 0 || o.wrong !== undefined)).toEqual([]);
    expect(
      outcomes.filter(
        (o) => o.status !== 200 && !(o.status === 503 && UNAVAILABLE_CODES.includes(o.code ?? '')),
      ),
    ).toEqual([]);
    const ok = outcomes.filter((o) => o.status === 200);
    expect(
      await unauditedRequests(
        url,
        ok.map((o) => o.requestId),
      ),
    ).toEqual([]);
    const db = new Database(url, { max: 2 });
    try {
      const store = new PgSecretStore({ db, master: new MasterKey(masterKey), clock: systemClock });
      expect(await secretVersionProblems(db, store)).toEqual([]);
      for (const write of ok.filter((o) => o.kind === 'write')) {
        expect((await store.get(parseSecretPath(write.path as string), write.version)).value).toBe(
          write.value,
        );
      }
    } finally {
      await db.close();
    }
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: url });
    expect(verify.stdout).toMatch(/audit chain intact/);
    expect(verify.code).toBe(0);
    expect(await server.stop()).toBe(0);
    console.info(
      `[faults] external postmaster SIGKILL: ${outcomes.length} calls, ${ok.length} × 200; ` +
        `/readyz 200 ${Math.round(readyAfterMs)} ms after the database was back`,
    );
  });
});
