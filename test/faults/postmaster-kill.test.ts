// The embedded postmaster killed with SIGKILL under `hallmark server`: restarted in place, nothing committed lost; or a clean exit 1.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import { endOrphans } from '../../src/db/postgres-orphans.js';
import { parseSecretPath, PgSecretStore } from '../../src/secrets/index.js';
import { runCli, tempDataDir } from '../helpers/cli-process.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { labelledCall, type LabelledOutcome } from './support/labelled-load.js';
import {
  certificatesWithoutAudit,
  secretVersionProblems,
  unrecordedSerials,
} from './support/ledger-checks.js';
import { startLoad, until } from './support/load-loop.js';
import {
  embeddedDatabaseUrl,
  isAlive,
  killPostmaster,
  listenersSince,
  postmasterPid,
  unauditedRequests,
} from './support/postmaster.js';
import {
  startServerProcess,
  writeKubeconfig,
  type ServerProcess,
} from './support/server-process.js';
import { apiKeyToken, workloadKey } from './support/workload.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;
/** The issue's bound: ready again this soon after the kill. */
const READY_AGAIN_MS = 15_000;
/** The supervisor tries for about 8 s (five attempts) before it gives up. */
const GIVE_UP_MS = 30_000;
const UNAVAILABLE_CODES = ['ERR_DB_UNAVAILABLE', 'ERR_AUDIT_UNAVAILABLE'];

/** /readyz polled every 50 ms: when it first said 503, and when it said 200 again after that. */
async function readyzAfterKill(
  server: ServerProcess,
  killedAt: number,
): Promise<{ downAfterMs?: number; readyAfterMs?: number }> {
  let downAfterMs: number | undefined;
  for (;;) {
    const now = performance.now();
    if (now - killedAt > READY_AGAIN_MS) return { downAfterMs };
    const status = await server.client
      .call('GET', '/readyz')
      .then((reply) => reply.status)
      .catch(() => 0);
    if (status === 503) downAfterMs ??= now - killedAt;
    if (status === 200 && downAfterMs !== undefined)
      return { downAfterMs, readyAfterMs: now - killedAt };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('embedded PostgreSQL postmaster killed under `hallmark server`', () => {
  let k8s: TestKubernetesApi;
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const masterKey = randomBytes(32);

  beforeAll(async () => {
    k8s = await startTestKubernetesApi();
    k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL').catch(() => undefined);
    for (const dir of dirs) {
      // A failed run can leave the test's long query running without its postmaster.
      await endOrphans(path.join(dir, 'pg', 'cluster'), 0);
      await rm(dir, { recursive: true, force: true });
    }
    await k8s?.close();
  });

  async function start(): Promise<{ server: ServerProcess; dataDir: string; admin: string }> {
    const dataDir = await tempDataDir('hallmark-faults-postmaster-');
    dirs.push(dataDir);
    const server = await startServerProcess(dataDir, {
      HALLMARK_MASTER_KEY: masterKey.toString('base64'),
      HALLMARK_KUBECONFIG: await writeKubeconfig(k8s, dataDir),
      HALLMARK_RATE_LIMIT: '1000000',
      ...LIFTED_PREAUTH_LIMITS,
    });
    servers.push(server);
    const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const admin = await apiKeyToken(server.client, 'admin', adminKey);
    return { server, dataDir, admin };
  }

  it('restarts it in place: ready again within 15 s, every answered request still recorded', async () => {
    const { server, dataDir, admin } = await start();
    const clusterDir = path.join(dataDir, 'pg', 'cluster');
    expect(
      (await server.client.call('PUT', '/v1/policy', { yaml: POLICY, token: admin })).status,
    ).toBe(200);
    const readValue = 'read-me-across-the-crash';
    expect(
      (
        await server.client.call('PUT', '/v1/secrets/crash/read', {
          body: { value: readValue },
          token: admin,
        })
      ).status,
    ).toBe(200);
    const target = {
      client: server.client,
      adminToken: admin,
      writePaths: ['crash/a', 'crash/b', 'crash/c'],
      readPath: 'crash/read',
      readValue,
      projectedToken: await k8s.issueToken({ namespace: 'payments', podName: 'api-1' }),
      key: workloadKey(),
      label: 'pmk',
    };
    const load = startLoad({ workers: 8, maxCalls: 50_000, maxMs: 60_000 }, (worker, call) =>
      labelledCall(target, worker, call),
    );
    const answered = (kind: LabelledOutcome['kind'], after = 0): number =>
      load.results.filter((o) => o.kind === kind && o.status === 200 && o.startedAt > after).length;
    await until(
      'successes before the kill',
      () => answered('write') >= 60 && answered('read') >= 30 && answered('svid') >= 20,
      30_000,
    );

    // A backend deep in a CPU-bound query (an admin's, say) does not notice the postmaster's
    // death and would hold the shared memory for minutes: the server must end it to restart.
    const url = await embeddedDatabaseUrl(dataDir);
    const longQuery = new pg.Client({ connectionString: url });
    longQuery.on('error', () => undefined);
    await longQuery.connect();
    const longQueryDone = longQuery
      .query('SELECT count(*) FROM generate_series(1, 10000000000)')
      .then(
        () => 'finished',
        () => 'cut off',
      );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const killedPid = await killPostmaster(clusterDir);
    const killedAt = performance.now();
    const killedAtWall = new Date();
    const { downAfterMs, readyAfterMs } = await readyzAfterKill(server, killedAt);
    expect(downAfterMs).toBeDefined();
    expect(readyAfterMs).toBeDefined();
    expect(readyAfterMs).toBeLessThanOrEqual(READY_AGAIN_MS);
    const readyAt = killedAt + (readyAfterMs ?? 0);
    await until(
      'successes after recovery',
      () => answered('write', readyAt) >= 30 && answered('svid', readyAt) >= 10,
      20_000,
    );
    load.stop();
    const outcomes = await load.done;

    // The same server process answered throughout: no transport failure, only 200 or 503.
    expect(server.cli.child.exitCode).toBeNull();
    expect(server.cli.child.signalCode).toBeNull();
    expect(outcomes.filter((o) => o.status === 0)).toEqual([]);
    expect(outcomes.filter((o) => o.wrong !== undefined)).toEqual([]);
    expect(
      outcomes.filter(
        (o) => o.status !== 200 && !(o.status === 503 && UNAVAILABLE_CODES.includes(o.code ?? '')),
      ),
    ).toEqual([]);
    // A new postmaster runs on the same data dir; the killed one is gone.
    const newPid = await postmasterPid(clusterDir);
    expect(newPid).not.toBe(killedPid);
    expect(isAlive(newPid)).toBe(true);

    expect(await longQueryDone).toBe('cut off');
    await longQuery.end().catch(() => undefined);
    // The notification connection came back by itself.
    await until(
      'the LISTEN connection to return',
      async () => (await listenersSince(url, killedAtWall)) > 0,
      15_000,
      100,
    );

    // Every request answered 200 — before, during and after the crash — has its audit row.
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
        const stored = await store.get(parseSecretPath(write.path as string), write.version);
        expect(stored.value).toBe(write.value);
      }
      expect(await certificatesWithoutAudit(db)).toEqual([]);
      const serials = ok.flatMap((o) => (o.serial === undefined ? [] : [o.serial]));
      expect(await unrecordedSerials(db, serials)).toEqual([]);
    } finally {
      await db.close();
    }

    // `hallmark audit verify` against the running, restarted cluster.
    const verify = await runCli(['audit', 'verify'], { HALLMARK_DATA_DIR: dataDir });
    expect(verify.stdout).toMatch(/audit chain intact/);
    expect(verify.code).toBe(0);

    // And it still shuts down cleanly, stopping the restarted postmaster.
    expect(await server.stop()).toBe(0);
    await until('the restarted postmaster to stop', () => !isAlive(newPid), 10_000, 50);

    const refused = outcomes.filter((o) => o.status === 503);
    console.info(
      `[faults] postmaster SIGKILL: ${outcomes.length} calls, ${ok.length} × 200, ${refused.length} × 503; ` +
        `/readyz 503 after ${Math.round(downAfterMs ?? NaN)} ms, 200 again after ${Math.round(readyAfterMs ?? NaN)} ms`,
    );
  });

  it('exits 1 with one line on stderr when the cluster cannot be brought back', async () => {
    const { server, dataDir } = await start();
    const clusterDir = path.join(dataDir, 'pg', 'cluster');
    // A running postmaster never reads PG_VERSION again; a starting one refuses the directory.
    await rename(path.join(clusterDir, 'PG_VERSION'), path.join(dataDir, 'PG_VERSION.moved'));
    await killPostmaster(clusterDir);
    const code = await server.cli.exited(GIVE_UP_MS);
    expect(code).toBe(1);
    const lines = server.cli
      .stderr()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hallmark: embedded PostgreSQL died and could not be restarted/);
    expect(lines[0]).toMatch(/PG_VERSION/);
  });
});
