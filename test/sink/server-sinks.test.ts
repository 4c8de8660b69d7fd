import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/db/index.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { RSYSLOG_SKIP_REASON, RSYSLOG_TESTS, startRsyslog } from '../helpers/rsyslog-receiver.js';
import { eventually, HttpsReceiver, receivedSeqs, testPki } from './sink-fixtures.js';

/** A metric's value in the server's /metrics text for one sink. */
async function metric(stack: HallmarkStack, name: string, sink: string): Promise<number> {
  const { body } = await stack.call('GET', '/metrics');
  const line = (body.text ?? '').split('\n').find((l) => l.startsWith(`${name}{sink="${sink}"}`));
  return line === undefined ? NaN : Number(line.split(' ').at(-1));
}

async function adminLogin(stack: HallmarkStack, key?: string): Promise<number> {
  const admin = stack.server.admin;
  const { status } = await stack.call('POST', '/v1/authn/apikey', {
    body: { id: 'admin', api_key: key ?? (admin.created ? admin.key : '') },
  });
  return status;
}

describe('audit sinks in the server', async () => {
  const pki = await testPki();
  let dir: string;
  let caFile: string;
  let tokenFile: string;
  const stacks: HallmarkStack[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-server-sinks-'));
    caFile = path.join(dir, 'ca.pem');
    tokenFile = path.join(dir, 'token');
    await writeFile(caFile, pki.ca);
    await writeFile(tokenFile, 'token-1');
  });
  afterAll(async () => {
    for (const stack of stacks) await stack.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function stack(env: Record<string, string>, databaseUrl?: string): Promise<HallmarkStack> {
    const started = await startStack({ env, databaseUrl });
    stacks.push(started);
    return started;
  }

  it.skipIf(!RSYSLOG_TESTS)(
    'streams its rows to a TLS syslog receiver named by HALLMARK_AUDIT_SYSLOG',
    async () => {
      if (!RSYSLOG_TESTS) console.warn(RSYSLOG_SKIP_REASON);
      const rsyslog = await startRsyslog({
        protocol: 'tls',
        tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
      });
      try {
        const server = await stack({
          HALLMARK_AUDIT_SYSLOG: `tls://127.0.0.1:${rsyslog.port}`,
          HALLMARK_AUDIT_SYSLOG_CA: caFile,
        });
        expect(await adminLogin(server)).toBe(200);
        const head = await server.server.db.query<{ seq: string }>('SELECT seq FROM audit_head');
        const last = Number(head.rows[0]?.seq);
        await eventually(async () => receivedSeqs(await rsyslog.lines()).includes(last));
        expect(
          (await rsyslog.lines()).some((l) => / authn\.apikey \[hallmark@32473 /.test(l)),
        ).toBe(true);
        await eventually(
          async () => (await metric(server, 'hallmark_audit_sink_lag_rows', 'syslog')) === 0,
        );
      } finally {
        await rsyslog.close();
      }
    },
  );

  it('stays ready and serves requests while its receiver fails verification', async () => {
    const other = await testPki('other.test');
    const receiver = new HttpsReceiver(other.server, await freeLoopbackPort());
    await receiver.start();
    try {
      const server = await stack({
        HALLMARK_AUDIT_WEBHOOK: `https://127.0.0.1:${receiver.port}/events`,
        HALLMARK_AUDIT_WEBHOOK_CA: caFile,
        HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE: tokenFile,
      });
      expect(await adminLogin(server)).toBe(200);
      await eventually(
        async () => (await metric(server, 'hallmark_audit_sink_errors_total', 'webhook')) >= 1,
      );
      expect((await server.call('GET', '/readyz')).status).toBe(200);
      expect(await adminLogin(server)).toBe(200);
      expect(await metric(server, 'hallmark_audit_sink_lag_rows', 'webhook')).toBeGreaterThan(0);
      expect(receiver.batches).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });

  it('sends from one replica at a time; another takes over when it stops', async () => {
    const receiver = new HttpsReceiver(pki.server, await freeLoopbackPort());
    await receiver.start();
    try {
      const databaseUrl = await createEmptyDatabase();
      const env = {
        HALLMARK_AUDIT_WEBHOOK: `https://127.0.0.1:${receiver.port}/events`,
        HALLMARK_AUDIT_WEBHOOK_CA: caFile,
        HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE: tokenFile,
        HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
      };
      const a = await stack(env, databaseUrl);
      const b = await stack(env, databaseUrl);
      const key = a.server.admin.created ? a.server.admin.key : '';
      const senders = async (): Promise<number> =>
        (await metric(a, 'hallmark_audit_sink_sender', 'webhook')) +
        (await metric(b, 'hallmark_audit_sink_sender', 'webhook'));
      await eventually(async () => (await senders()) === 1);
      for (let i = 0; i < 5; i++) {
        expect(await adminLogin(a, key)).toBe(200);
        expect(await adminLogin(b, key)).toBe(200);
      }
      const head = async (): Promise<number> =>
        Number(
          (await a.server.db.query<{ seq: string }>('SELECT seq FROM audit_head')).rows[0]?.seq,
        );
      const first = await head();
      await eventually(async () => receiver.seqs().includes(first));
      // One sender and no outage: every row exactly once, in order.
      expect(receiver.seqs()).toEqual(Array.from({ length: first }, (_, i) => i + 1));
      const leader = (await metric(a, 'hallmark_audit_sink_sender', 'webhook')) === 1 ? a : b;
      const follower = leader === a ? b : a;
      await leader.close();
      stacks.splice(stacks.indexOf(leader), 1);
      expect(await adminLogin(follower, key)).toBe(200);
      const next = Number(
        (await follower.server.db.query<{ seq: string }>('SELECT seq FROM audit_head')).rows[0]
          ?.seq,
      );
      await eventually(async () => receiver.seqs().includes(next), 20_000);
      expect(await metric(follower, 'hallmark_audit_sink_sender', 'webhook')).toBe(1);
    } finally {
      await receiver.stop();
    }
  }, 60_000);
});
