import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { freeLoopbackPort, type Database } from '../../src/db/index.js';
import { WebhookTransport } from '../../src/sink/webhook-transport.js';
import { createMigratedDatabase } from '../helpers/database.js';
import {
  appendRows,
  checkAtLeastOnceInOrder,
  eventually,
  HttpsReceiver,
  metricValue,
  type Received,
  senderFor,
  testPki,
} from './sink-fixtures.js';

describe('webhook sink → HTTPS receiver (CloudEvents batches)', async () => {
  const pki = await testPki();
  let dir: string;
  let tokenFile: string;
  const receivers: HttpsReceiver[] = [];
  const dbs: Database[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-webhook-'));
    tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, 'token-1\n');
  });
  afterAll(async () => {
    for (const r of receivers) await r.stop();
    for (const d of dbs) await d.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function setup(): Promise<{
    receiver: HttpsReceiver;
    db: Database;
    url: string;
    transport: WebhookTransport;
  }> {
    const receiver = new HttpsReceiver(pki.server, await freeLoopbackPort());
    await receiver.start();
    receivers.push(receiver);
    const { url, db } = await createMigratedDatabase();
    dbs.push(db);
    const transport = new WebhookTransport({
      target: { url: `https://127.0.0.1:${receiver.port}/events`, ca: pki.ca, tokenFile },
      format: 'ocsf',
      product: { version: '0.1.0' },
      source: 'urn:hallmark:sink.test:audit',
      timeoutMs: 3_000,
    });
    return { receiver, db, url, transport };
  }

  it('posts batches of valid CloudEvents with ids and sequences from the seq and OCSF data', async () => {
    const { receiver, db, url, transport } = await setup();
    const seqs = await appendRows(new PgAuditLog(db, systemClock), 120);
    const { sender } = senderFor(db, url, transport);
    sender.start();
    try {
      await eventually(async () => receiver.seqs().length >= 120);
      expect(receiver.seqs()).toEqual(seqs);
      const batch = receiver.batches[0] as Received;
      expect(batch.contentType).toMatch(/^application\/cloudevents-batch\+json/);
      expect(batch.events.length).toBeGreaterThan(1);
      const event = batch.events[0] as Received['events'][number] & Record<string, unknown>;
      expect(event).toMatchObject({
        id: 'audit-1',
        source: 'urn:hallmark:sink.test:audit',
        type: 'io.hallmark.audit.record.v1',
        subject: 'secret.read',
        sequence: '00000000000000000001',
        dataschema: 'https://schema.ocsf.io/1.8.0/classes/api_activity',
        data: { class_uid: 6003, metadata: { sequence: 1 } },
      });
    } finally {
      await sender.stop();
      await transport.close();
    }
  });

  it('reads the bearer token file before each batch; a refused token is a metric and a retry', async () => {
    const { receiver, db, url, transport } = await setup();
    receiver.token = 'token-2';
    const audit = new PgAuditLog(db, systemClock);
    await appendRows(audit, 5);
    const { sender, registry } = senderFor(db, url, transport);
    sender.start();
    try {
      await eventually(
        async () => (await metricValue(registry, 'hallmark_audit_sink_errors_total')) >= 1,
      );
      expect(receiver.batches).toEqual([]);
      await writeFile(tokenFile, 'token-2\n');
      await eventually(async () => receiver.seqs().length >= 5);
      expect(receiver.batches[0]?.authorization).toBe('Bearer token-2');
    } finally {
      await sender.stop();
      await transport.close();
      await writeFile(tokenFile, 'token-1\n');
    }
  });

  it('loses nothing when the receiver is down for 10 s under load', async () => {
    const { receiver, db, url, transport } = await setup();
    const audit = new PgAuditLog(db, systemClock);
    const { sender, registry } = senderFor(db, url, transport);
    sender.start();
    const written: number[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        written.push(...(await appendRows(audit, 20)));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await eventually(async () => receiver.seqs().length >= 100);
      await receiver.stop();
      await eventually(
        async () => (await metricValue(registry, 'hallmark_audit_sink_errors_total')) >= 1,
      );
      await new Promise((r) => setTimeout(r, 10_000));
      await receiver.start();
      await new Promise((r) => setTimeout(r, 1_000));
      loading = false;
      await load;
      const last = written.at(-1) as number;
      await eventually(async () => receiver.seqs().includes(last), 30_000);
      checkAtLeastOnceInOrder(receiver.seqs(), written);
    } finally {
      loading = false;
      await load;
      await sender.stop();
      await transport.close();
    }
  }, 60_000);
});
