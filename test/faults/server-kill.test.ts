// `hallmark server` killed with SIGKILL under load, then restarted: the chain and every secret version stay whole.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import { parseSecretPath, PgSecretStore } from '../../src/secrets/index.js';
import { auditSettled } from '../helpers/audit-settled.js';
import { runCli, tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { transportCode } from './support/hallmark-client.js';
import {
  certificatesWithoutAudit,
  secretVersionProblems,
  unrecordedSerials,
} from './support/ledger-checks.js';
import { startLoad, until } from './support/load-loop.js';
import {
  startServerProcess,
  writeKubeconfig,
  type ServerProcess,
} from './support/server-process.js';
import { apiKeyToken, leafSerial, requestSvid, workloadKey } from './support/workload.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';

const POLICY = `
workloads:
  - namespace: payments
    serviceAccount: api
`;
const PATHS = ['kill/a', 'kill/b', 'kill/c', 'kill/d'];

interface Outcome {
  kind: 'write' | 'svid';
  startedAt: number;
  status: number;
  code?: string;
  path?: string;
  value?: string;
  version?: number;
  serial?: string;
}

describe('server killed with SIGKILL under load and restarted', () => {
  let k8s: TestKubernetesApi;
  let dataDir: string;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];
  const masterKey = randomBytes(32);

  beforeAll(async () => {
    k8s = await startTestKubernetesApi();
    k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    dataDir = await tempDataDir('hallmark-faults-kill-');
    env = {
      DATABASE_URL: await createEmptyDatabase(),
      HALLMARK_MASTER_KEY: masterKey.toString('base64'),
      HALLMARK_KUBECONFIG: await writeKubeconfig(k8s, dataDir),
      HALLMARK_RATE_LIMIT: '1000000',
      ...LIFTED_PREAUTH_LIMITS,
    };
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL').catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await k8s?.close(); // strict: fails if the server made a call outside deploy/rbac.yaml
  });

  it('keeps the audit chain and secret versions whole, and comes back ready', async () => {
    const first = await startServerProcess(dataDir, env);
    servers.push(first);
    const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const admin = await apiKeyToken(first.client, 'admin', adminKey);
    expect(
      (await first.client.call('PUT', '/v1/policy', { yaml: POLICY, token: admin })).status,
    ).toBe(200);
    const projected = await k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
    const key = workloadKey();

    // Secret writes (several writers per path, so versions race) and SVID issuance, until the kill.
    const load = startLoad(
      { workers: 8, maxCalls: 20_000, maxMs: 30_000 },
      async (worker, call): Promise<Outcome> => {
        const kind: Outcome['kind'] = call % 3 === 2 ? 'svid' : 'write';
        const startedAt = performance.now();
        try {
          if (kind === 'svid') {
            const reply = await requestSvid(first.client, projected, key);
            return {
              kind,
              startedAt,
              status: reply.status,
              code: reply.body.error?.code,
              serial: reply.status === 200 ? leafSerial(reply) : undefined,
            };
          }
          const secretPath = PATHS[call % PATHS.length] as string;
          const value = `value-${worker}-${call}-${randomBytes(6).toString('hex')}`;
          const reply = await first.client.call('PUT', `/v1/secrets/${secretPath}`, {
            body: { value },
            token: admin,
          });
          return {
            kind,
            startedAt,
            status: reply.status,
            code: reply.body.error?.code,
            path: secretPath,
            value,
            version: reply.body.version as number | undefined,
          };
        } catch (err) {
          return { kind, startedAt, status: 0, code: transportCode(err) };
        }
      },
    );
    const acknowledged = (kind: Outcome['kind']): Outcome[] =>
      load.results.filter((o) => o.kind === kind && o.status === 200);
    await until(
      'writes and SVIDs before the kill',
      () => acknowledged('write').length >= 80 && acknowledged('svid').length >= 30,
      30_000,
    );
    const killedAt = performance.now();
    first.cli.child.kill('SIGKILL');
    load.stop(); // the workers end with the calls the kill cut off
    expect(await first.stop('SIGKILL')).toBe(128);
    const outcomes = await load.done;

    // Every answer before the kill was a success; the calls in flight were cut off mid-way.
    expect(outcomes.filter((o) => o.status !== 200 && o.status !== 0)).toEqual([]);
    const cutOff = outcomes.filter((o) => o.status === 0);
    expect(cutOff.length).toBeGreaterThan(0);
    expect(cutOff.filter((o) => o.startedAt > killedAt)).toEqual([]);

    // `hallmark audit verify` reads PostgreSQL directly, with the server down.
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: env.DATABASE_URL as string });
    expect(verify.stdout).toMatch(/audit chain intact/);
    expect(verify.code).toBe(0);

    const db = new Database(env.DATABASE_URL as string, { max: 2 });
    try {
      const store = new PgSecretStore({ db, master: new MasterKey(masterKey), clock: systemClock });
      expect(await secretVersionProblems(db, store)).toEqual([]);
      // Every acknowledged write is there, under the version it was acknowledged with.
      for (const write of acknowledged('write')) {
        const stored = await store.get(parseSecretPath(write.path as string), write.version);
        expect(stored.value).toBe(write.value);
      }
      expect(await certificatesWithoutAudit(db)).toEqual([]);
      const served = acknowledged('svid').map((o) => o.serial as string);
      expect(await unrecordedSerials(db, served)).toEqual([]);
    } finally {
      await db.close();
    }

    // The same data dir and database: up again, ready, and serving with the same admin key.
    const restartStarted = performance.now();
    const second = await startServerProcess(dataDir, env);
    servers.push(second);
    const readyAfter = await until(
      'the restarted server to be ready',
      async () => (await second.client.call('GET', '/readyz')).status === 200,
      30_000,
      50,
    );
    const restartMs = performance.now() - restartStarted;
    const admin2 = await apiKeyToken(second.client, 'admin', adminKey);
    const heads = await Promise.all(
      PATHS.map(
        async (p) =>
          (await second.client.call('GET', `/v1/secrets/${p}`, { token: admin2 })).body
            .version as number,
      ),
    );
    const next = await second.client.call('PUT', `/v1/secrets/${PATHS[0]}`, {
      body: { value: 'after-restart' },
      token: admin2,
    });
    expect(next.body).toEqual({ path: PATHS[0], version: (heads[0] ?? 0) + 1 });
    expect((await requestSvid(second.client, projected, key)).status).toBe(200);
    expect(second.cli.stdout()).toMatch(/admin API key:\s+created on first start/);
    // Rows the killed server staged but never chained are chained by the one running now.
    const after = new Database(env.DATABASE_URL as string, { max: 2 });
    try {
      await auditSettled(after);
      expect(await verifyAuditChain(after)).toMatchObject({ ok: true, staged: 0 });
    } finally {
      await after.close();
    }
    expect(await second.stop()).toBe(0);

    console.info(
      `[faults] SIGKILL: ${acknowledged('write').length} acknowledged writes, ${acknowledged('svid').length} SVIDs, ` +
        `${cutOff.length} calls in flight cut off; versions per path ${heads.join('/')}; ` +
        `restart to ready ${Math.round(restartMs)} ms (readyz after listening ${Math.round(readyAfter)} ms)`,
    );
  });
});
