import { afterAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { freeLoopbackPort, type Database } from '../../src/db/index.js';
import { WebhookTransport } from '../../src/sink/webhook-transport.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { appendRows, eventually, HttpsReceiver, senderFor, testPki } from './sink-fixtures.js';

describe('sink alarms written to the audit log', async () => {
  const pki = await testPki();
  const dbs: Database[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.close();
  });

  async function setup(
    port: number,
  ): Promise<{ db: Database; url: string; transport: WebhookTransport }> {
    const { url, db } = await createMigratedDatabase();
    dbs.push(db);
    const transport = new WebhookTransport({
      target: { url: `https://127.0.0.1:${port}/`, ca: pki.ca },
      format: 'hallmark',
      product: { version: '0' },
      source: 'urn:test',
      timeoutMs: 2_000,
    });
    return { db, url, transport };
  }

  async function rows(db: Database, action: string): Promise<{ target: string; reason: string }[]> {
    const result = await db.query<{ target: string; reason: string }>(
      'SELECT target, reason FROM audit_log WHERE action = $1 ORDER BY seq',
      [action],
    );
    return result.rows;
  }

  it('writes one audit.sink.gap row naming the rows deleted before delivery, and delivers the rest', async () => {
    const receiver = new HttpsReceiver(pki.server, await freeLoopbackPort());
    receiver.token = '';
    const { db, url, transport } = await setup(receiver.port);
    await appendRows(new PgAuditLog(db, systemClock), 12);
    await db.query('DELETE FROM audit_log WHERE seq BETWEEN 5 AND 9');
    await receiver.start();
    const { sender } = senderFor(db, url, transport);
    sender.start();
    try {
      await eventually(async () => receiver.seqs().includes(13));
      expect(receiver.seqs()).toEqual([1, 2, 3, 4, 10, 11, 12, 13]);
      expect(await rows(db, 'audit.sink.gap')).toEqual([
        { target: 'sink=webhook missing=5-9', reason: 'ERR_AUDIT_SINK_GAP' },
      ]);
    } finally {
      await sender.stop();
      await transport.close();
      await receiver.stop();
    }
  });

  it('writes one audit.sink.lag row when the oldest undelivered row is older than the bound', async () => {
    const { db, url, transport } = await setup(await freeLoopbackPort()); // nothing listens
    await appendRows(new PgAuditLog(db, systemClock), 3);
    const { sender } = senderFor(db, url, transport, { timing: { lagAlarmMs: 300 } });
    sender.start();
    try {
      await eventually(async () => (await rows(db, 'audit.sink.lag')).length === 1);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await rows(db, 'audit.sink.lag')).toEqual([
        { target: 'sink=webhook behind=3 oldest=1', reason: 'ERR_AUDIT_SINK_LAGGING' },
      ]);
    } finally {
      await sender.stop();
      await transport.close();
    }
  });
});
