// `hallmark server` with HALLMARK_WORKERS=2 on its embedded PostgreSQL: both workers serve, the sink sends once,
// a killed worker is replaced, SIGTERM stops everything.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database, freeLoopbackPort } from '../../src/db/index.js';
import { snapshotProcesses } from '../bench/process-cpu.js';
import { alive, metricValue, workerPids } from './worker-processes.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import type { HallmarkClient } from '../faults/support/hallmark-client.js';
import { until } from '../faults/support/load-loop.js';
import {
  startServerProcess,
  writeKubeconfig,
  type ServerProcess,
} from '../faults/support/server-process.js';
import { apiKeyToken, requestSvid, workloadKey } from '../faults/support/workload.js';
import { HttpsReceiver, testPki } from '../sink/sink-fixtures.js';

const POLICY = 'workloads:\n  - namespace: payments\n    serviceAccount: api\n';
const SVID_ROUTE = 'method="POST",route="/v1/svid/x509",status="200"';

describe('hallmark server with HALLMARK_WORKERS=2 on its embedded PostgreSQL', () => {
  let pki: Awaited<ReturnType<typeof testPki>>;
  let k8s: TestKubernetesApi;
  let dataDir: string;
  let receiver: HttpsReceiver;
  let server: ServerProcess;
  let db: Database;
  let projected: string;
  const clients: HallmarkClient[] = [];

  /** A client on its own connection, trusting bundle.pem as the primary keeps it now. */
  async function client(): Promise<HallmarkClient> {
    const fresh = await server.freshClient();
    clients.push(fresh);
    return fresh;
  }

  async function metrics(): Promise<string> {
    const reply = await (await client()).call('GET', '/metrics');
    expect(reply.status).toBe(200);
    return reply.body.text ?? '';
  }

  async function count(sql: string): Promise<number> {
    return Number((await db.query<{ n: string }>(sql)).rows[0]?.n);
  }

  beforeAll(async () => {
    pki = await testPki();
    k8s = await startTestKubernetesApi();
    k8s.addPod({ namespace: 'payments', name: 'api-1', serviceAccountName: 'api' });
    dataDir = await tempDataDir('hallmark-workers-');
    const caFile = path.join(dataDir, 'receiver-ca.pem');
    await writeFile(caFile, pki.ca);
    receiver = new HttpsReceiver(pki.server, await freeLoopbackPort());
    receiver.token = '';
    await receiver.start();
    server = await startServerProcess(dataDir, {
      HALLMARK_WORKERS: '2',
      HALLMARK_KUBECONFIG: await writeKubeconfig(k8s, dataDir),
      HALLMARK_LOG_LEVEL: 'info',
      HALLMARK_RATE_LIMIT: '1000000',
      HALLMARK_AUDIT_WEBHOOK: `https://127.0.0.1:${receiver.port}/events`,
      HALLMARK_AUDIT_WEBHOOK_CA: caFile,
      ...LIFTED_PREAUTH_LIMITS,
    });
    const state = JSON.parse(await readFile(path.join(dataDir, 'pg', 'state.json'), 'utf8')) as {
      port: number;
      password: string;
    };
    db = new Database(
      `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/hallmark`,
      { max: 2 },
    );
    const adminKey = (await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim();
    const admin = await apiKeyToken(server.client, 'admin', adminKey);
    expect(
      (await server.client.call('PUT', '/v1/policy', { yaml: POLICY, token: admin })).status,
    ).toBe(200);
    projected = await k8s.issueToken({ namespace: 'payments', podName: 'api-1' });
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await Promise.all(clients.map((c) => c.close()));
    if (server && server.cli.child.exitCode === null) await server.stop('SIGKILL');
    await receiver?.stop();
    await k8s?.close(); // strict: fails if a worker made a call outside deploy/rbac.yaml
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs two workers that both issue SVIDs, each with its own database pool', async () => {
    expect(server.cli.stdout()).toMatch(
      /listening on \S+ {2}\(database: embedded PostgreSQL, 2 workers\)/,
    );
    expect(server.cli.stdout().match(/admin API key: {2}hmk_/g)).toHaveLength(1);
    expect(workerPids(server.cli.child.pid as number)).toHaveLength(2);
    // The primary hands each new connection to the next worker: eight connections reach both.
    for (let i = 0; i < 8; i++) {
      const reply = await requestSvid(await client(), projected, workloadKey());
      expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 200 });
    }
    const text = await metrics();
    for (const worker of ['1', '2']) {
      expect(
        metricValue(
          text,
          'hallmark_http_request_duration_seconds_count',
          `${SVID_ROUTE},worker="${worker}"`,
        ),
      ).toBeGreaterThan(0);
    }
    const names = await db.query<{ application_name: string }>(
      "SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name LIKE 'hallmark%' ORDER BY 1",
    );
    expect(names.rows.map((r) => r.application_name)).toEqual([
      'hallmark/worker-1',
      'hallmark/worker-2',
    ]);
  });

  it('has one worker send the audit sink, which delivers every row once', async () => {
    const text = await metrics();
    expect(
      metricValue(text, 'hallmark_audit_sink_sender', 'sink="webhook",worker="1"') +
        metricValue(text, 'hallmark_audit_sink_sender', 'sink="webhook",worker="2"'),
    ).toBe(1);
    const last = await count('SELECT max(seq) AS n FROM audit_log');
    // The rows' seqs (signed checkpoints, which the sink sends too, left out).
    const delivered = (): number[] => receiver.seqs();
    await until(
      'the sink to deliver every row so far',
      () => delivered().includes(last),
      20_000,
      100,
    );
    const seqs = delivered().filter((seq) => seq <= last);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBe(last);
  });

  it('resumes a TLS session on whichever worker the next connection reaches', async () => {
    const ca = await readFile(path.join(dataDir, 'bundle.pem'), 'utf8');
    const port = Number(new URL(server.url).port);
    /** One connection: a health probe, then close; whether it resumed, and the ticket it got. */
    const probe = (session?: Buffer) =>
      new Promise<{ reused: boolean; ticket: Buffer | undefined }>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca, session });
        let ticket: Buffer | undefined;
        let reused = false;
        socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
        socket.on('session', (s: Buffer) => (ticket = s));
        socket.once('secureConnect', () => {
          reused = socket.isSessionReused();
          socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        });
        socket.resume();
        socket.once('end', () => resolve({ reused, ticket }));
        socket.once('error', reject);
      });
    const first = await probe();
    expect(first.reused).toBe(false);
    expect(first.ticket).toBeDefined();
    // Connections go to the workers in turn, so six of them reach both: node:cluster hands the
    // first worker's session ticket keys to every other (TLS 1.3 resumes from the ticket alone).
    const again = [];
    for (let i = 0; i < 6; i++) again.push((await probe(first.ticket)).reused);
    expect(again).toEqual(Array<boolean>(6).fill(true));
  });

  it('replaces a killed worker in its slot', async () => {
    const primary = server.cli.child.pid as number;
    const before = workerPids(primary);
    const victim = before[0] as number;
    process.kill(victim, 'SIGKILL');
    await until(
      'a new worker',
      () => {
        const now = workerPids(primary);
        return now.length === 2 && !now.includes(victim);
      },
      30_000,
      100,
    );
    await until(
      'the new worker to serve',
      async () => {
        const text = await metrics().catch(() => '');
        return (
          metricValue(text, 'process_cpu_user_seconds_total', 'worker="1"') > 0 &&
          metricValue(text, 'process_cpu_user_seconds_total', 'worker="2"') > 0
        );
      },
      60_000,
      200,
    );
    // Eight new connections: the replacement gets its share and issues SVIDs like the other.
    for (let i = 0; i < 8; i++) {
      const reply = await requestSvid(await client(), projected, workloadKey());
      expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 200 });
    }
    expect(server.cli.stdout()).toMatch(/worker exited unexpectedly; restarting it/);
    const text = await metrics();
    for (const worker of ['1', '2']) {
      expect(
        metricValue(
          text,
          'hallmark_http_request_duration_seconds_count',
          `${SVID_ROUTE},worker="${worker}"`,
        ),
      ).toBeGreaterThan(0);
    }
  }, 150_000);

  it('stops every worker, then PostgreSQL, on SIGTERM and exits 0', async () => {
    const primary = server.cli.child.pid as number;
    const children = [...snapshotProcesses().values()].filter((p) => p.ppid === primary);
    const postmaster = children.find((p) => p.comm === 'postgres');
    expect(postmaster).toBeDefined();
    const workers = children.filter((p) => p.comm === 'node').map((p) => p.pid);
    expect(workers).toHaveLength(2);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.cli.stdout()).toMatch(/Hallmark is shutting down/);
    for (const pid of [...workers, postmaster?.pid as number]) expect(alive(pid)).toBe(false);
  });
});
