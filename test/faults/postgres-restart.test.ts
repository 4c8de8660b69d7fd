// PostgreSQL stopped and restarted under load: 503s while it is down, recovery without a server restart.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/index.js';
import { createApiKey } from '../../src/authn/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database, startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { HallmarkClient, transportCode, type Reply } from './support/hallmark-client.js';
import { certificatesWithoutAudit, unrecordedSerials } from './support/ledger-checks.js';
import { startLoad, until, type LoadRun } from './support/load-loop.js';
import {
  apiKeyToken,
  leafSerial,
  requestSvid,
  workloadKey,
  type WorkloadKey,
} from './support/workload.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
grants:
  - to: key:app-1
    read: [payments/*]
`;
const SECRET_PATH = 'payments/db-password';
const SECRET_VALUE = 'pg-restart-secret-value';
// Durability is not under test; a clean stop (SIGINT, fast shutdown) keeps everything anyway.
const PG_SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
/** What "PostgreSQL is unavailable" may look like to a caller: 503 with one of these codes. */
const UNAVAILABLE_CODES = ['ERR_DB_UNAVAILABLE', 'ERR_AUDIT_UNAVAILABLE'];
/** No call may take longer: the pool gives up connecting after 5 s. */
const HANG_BOUND_MS = 10_000;

interface Outcome {
  kind: 'svid' | 'secret';
  status: number;
  code?: string;
  startedAt: number;
  endedAt: number;
  serial?: string;
  /** Set when a 200 carried something other than the one right answer. */
  wrong?: string;
  /** Set when a 5xx body was not our JSON error (e.g. a stack trace). */
  raw?: string;
}

describe('PostgreSQL stopped and restarted under load', () => {
  let pgDir: string;
  let cluster: EmbeddedCluster;
  let stack: HallmarkStack;
  let client: HallmarkClient;
  let load: LoadRun<Outcome> | undefined;

  beforeAll(async () => {
    pgDir = await tempDataDir('hallmark-faults-pg-');
    cluster = await startEmbeddedPostgres({ dir: path.join(pgDir, 'pg'), settings: PG_SETTINGS });
    stack = await startStack({
      databaseUrl: cluster.url,
      policy: POLICY,
      env: { HALLMARK_RATE_LIMIT: '1000000' },
    });
    client = new HallmarkClient(
      stack.server.url,
      stack.server.ca.bundle().certificatesPem.join(''),
    );
    stack.k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    await stack.server.secrets.put(parseSecretPath(SECRET_PATH), SECRET_VALUE, 'test');
  });

  afterAll(async () => {
    load?.stop();
    await load?.done;
    await client?.close();
    await stack?.close();
    await cluster?.stop();
    if (pgDir) await rm(pgDir, { recursive: true, force: true });
  });

  async function step(
    kind: Outcome['kind'],
    projected: string,
    appToken: string,
    key: WorkloadKey,
  ): Promise<Outcome> {
    const startedAt = performance.now();
    let reply: Reply;
    try {
      reply =
        kind === 'svid'
          ? await requestSvid(client, projected, key)
          : await client.call('GET', `/v1/secrets/${SECRET_PATH}`, { token: appToken });
    } catch (err) {
      return { kind, status: 0, code: transportCode(err), startedAt, endedAt: performance.now() };
    }
    const outcome: Outcome = {
      kind,
      status: reply.status,
      code: reply.body.error?.code,
      startedAt,
      endedAt: performance.now(),
    };
    if (reply.status === 200 && kind === 'svid') outcome.serial = leafSerial(reply);
    if (reply.status === 200 && kind === 'secret') {
      const { path: p, version, value } = reply.body;
      if (p !== SECRET_PATH || version !== 1 || value !== SECRET_VALUE)
        outcome.wrong = JSON.stringify(reply.body);
    }
    if (reply.status >= 500 && reply.body.error === undefined)
      outcome.raw = JSON.stringify(reply.body).slice(0, 500);
    return outcome;
  }

  it('answers 503 while it is down, recovers by itself, and keeps the ledger whole', async () => {
    const projected = await stack.k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const apiKey = await createApiKey(stack.server.db, { id: 'app-1', role: 'app' }, systemClock);
    const appToken = await apiKeyToken(client, 'app-1', apiKey);
    const keys = Array.from({ length: 8 }, () => workloadKey());
    load = startLoad({ workers: 8, maxCalls: 50_000, maxMs: 60_000 }, (worker, call) =>
      step(call % 2 === 0 ? 'svid' : 'secret', projected, appToken, keys[worker] ?? workloadKey()),
    );
    const results = load.results;
    const count = (kind: Outcome['kind'], test: (o: Outcome) => boolean): number =>
      results.filter((o) => o.kind === kind && test(o)).length;
    const eachKind = (test: (o: Outcome) => boolean, n: number) => (): boolean =>
      count('svid', test) >= n && count('secret', test) >= n;

    await until(
      'successes before the fault',
      eachKind((o) => o.status === 200, 50),
      20_000,
    );

    const stoppedAt = performance.now();
    await cluster.stop();
    await until(
      'refusals while PostgreSQL is down',
      eachKind((o) => o.startedAt > stoppedAt && o.status === 503, 20),
      15_000,
    );
    const readyWhileDown = await client.call('GET', '/readyz');

    cluster = await startEmbeddedPostgres({ dir: path.join(pgDir, 'pg'), settings: PG_SETTINGS });
    const restartedAt = performance.now();
    const recoveredAfter = (kind: Outcome['kind']): number | undefined => {
      const first = results.find(
        (o) => o.kind === kind && o.startedAt >= restartedAt && o.status === 200,
      );
      return first === undefined ? undefined : first.endedAt - restartedAt;
    };
    await until(
      'recovery after the restart',
      () => recoveredAfter('svid') !== undefined && recoveredAfter('secret') !== undefined,
      20_000,
    );
    const recoveredAt =
      restartedAt + Math.max(recoveredAfter('svid') ?? 0, recoveredAfter('secret') ?? 0);
    await until(
      'successes after recovery',
      eachKind((o) => o.startedAt > recoveredAt && o.status === 200, 50),
      20_000,
    );
    const readyAfter = await client.call('GET', '/readyz');
    load.stop();
    await load.done;

    // What callers saw: 200 with the right answer, or 503 with an "unavailable" code; nothing else.
    expect(results.filter((o) => o.status === 0)).toEqual([]);
    expect(results.filter((o) => o.wrong !== undefined || o.raw !== undefined)).toEqual([]);
    const refusals = results.filter((o) => o.status !== 200);
    expect(
      refusals.filter((o) => o.status !== 503 || !UNAVAILABLE_CODES.includes(o.code ?? '')),
    ).toEqual([]);
    expect(Math.max(...results.map((o) => o.endedAt - o.startedAt))).toBeLessThan(HANG_BOUND_MS);
    expect(readyWhileDown.status).toBe(503);
    expect(readyAfter.status).toBe(200);
    // Once recovered, it stays recovered: every call started after that point succeeded.
    expect(results.filter((o) => o.startedAt > recoveredAt && o.status !== 200)).toEqual([]);
    expect(
      Math.max(recoveredAfter('svid') ?? Infinity, recoveredAfter('secret') ?? Infinity),
    ).toBeLessThan(10_000);

    // The ledger: chain intact, every recorded certificate audited, every 200 recorded, serials unique.
    const db = new Database(cluster.url, { max: 2 });
    try {
      const verdict = await verifyAuditChain(db);
      expect(verdict).toMatchObject({ ok: true });
      expect(await certificatesWithoutAudit(db)).toEqual([]);
      const served = results.flatMap((o) => (o.serial === undefined ? [] : [o.serial]));
      expect(new Set(served).size).toBe(served.length);
      expect(await unrecordedSerials(db, served)).toEqual([]);
    } finally {
      await db.close();
    }

    const downLatencies = refusals.map((o) => o.endedAt - o.startedAt);
    const codes = [...new Set(refusals.map((o) => `${o.kind}:${o.code ?? ''}`))].sort().join(', ');
    console.info(
      `[faults] postgres restart: ${results.length} calls, ${results.length - refusals.length} × 200, ` +
        `${refusals.length} × 503 [${codes}] (max ${Math.round(Math.max(...downLatencies))} ms); ` +
        `recovered ${Math.round(recoveredAfter('svid') ?? NaN)} ms (svid) / ${Math.round(recoveredAfter('secret') ?? NaN)} ms (secret) after restart`,
    );
  });
});
