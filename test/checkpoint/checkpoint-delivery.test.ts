// Checkpoints through a sink: their own CloudEvents type, after their row (or late, once),
// a cursor of their own; and `verify --checkpoints -` reading what the receiver got.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { startAuditCheckpoints, verifyCheckpointJws } from '../../src/checkpoint/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { freeLoopbackPort } from '../../src/db/index.js';
import { WebhookTransport } from '../../src/sink/webhook-transport.js';
import { startCli } from '../helpers/cli-process.js';
import { createMigratedDatabase } from '../helpers/database.js';
import {
  appendRows,
  eventually,
  HttpsReceiver,
  senderFor,
  testPki,
} from '../sink/sink-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

// The sink's server certificate, issued by an async engine; made once per file.
const pki = await testPki();

describe('checkpoints delivered by a sink', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-checkpoint-sink-'));
    await writeFile(path.join(dir, 'token'), 'token-1');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('arrive as io.hallmark.audit.checkpoint.v1 after their row, once, and prove the chain', async () => {
    const { url, db } = await createMigratedDatabase();
    // Near the real time: the sender (system clock) would raise a lag alarm for old rows.
    const clock = new ManualClock(Date.now());
    const audit = new PgAuditLog(db, clock);
    const checkpoints = await startAuditCheckpoints({
      db,
      master: new MasterKey(randomBytes(32)),
      clock,
      audit,
      log: quiet,
      metrics: new Registry(),
      trustDomain: 'example.org',
      intervalMs: 60_000,
      keyRotationMs: 30 * 86_400_000,
      tick: false,
    });
    const receiver = new HttpsReceiver(pki.server, await freeLoopbackPort());
    await receiver.start();
    const transport = new WebhookTransport({
      target: {
        url: `https://127.0.0.1:${receiver.port}/events`,
        ca: pki.ca,
        tokenFile: path.join(dir, 'token'),
      },
      format: 'ocsf',
      product: { version: '0.1.0' },
      source: 'urn:hallmark:example.org:audit',
      timeoutMs: 3_000,
    });
    const headSeq = async (): Promise<number> =>
      Number((await db.query<{ seq: string }>('SELECT seq FROM audit_head')).rows[0]?.seq);
    let { sender } = senderFor(db, url, transport, { audit });
    try {
      await audit.settle();
      await appendRows(audit, 5);
      sender.start();
      const first = await headSeq();
      await eventually(async () => receiver.seqs().includes(first));
      // Signed after its row was delivered: it still goes, once.
      const late = await checkpoints.checkpointer.round();
      expect(late?.seq).toBe(first);
      const kinds = () =>
        receiver.events().filter((e) => e.type === 'io.hallmark.audit.checkpoint.v1');
      await eventually(async () => kinds().length === 1);
      // Signed before its row was sent: it goes right after it.
      await sender.stop();
      await appendRows(audit, 3, 'y');
      clock.advance(60_000);
      const next = await checkpoints.checkpointer.round();
      ({ sender } = senderFor(db, url, transport, { audit }));
      sender.start();
      await eventually(async () => kinds().length === 2);
      const events = receiver.events();
      const at = events.findIndex((e) => e.id === `checkpoint-${next!.seq}`);
      expect(events[at - 1]?.id).toBe(`audit-${next!.seq}`);
      const data = kinds()[1]!.data as { checkpoint: { seq: number; hash: string; jws: string } };
      expect(data.checkpoint).toMatchObject({ seq: next!.seq, hash: next!.hash, jws: next!.jws });
      const statement = await verifyCheckpointJws(data.checkpoint.jws, checkpoints.keyring.jwks());
      expect(statement.seq).toBe(next!.seq);
      // A restarted sender resends no confirmed checkpoint.
      await sender.stop();
      ({ sender } = senderFor(db, url, transport, { audit }));
      sender.start();
      await appendRows(audit, 1, 'z');
      const last = await headSeq();
      await eventually(async () => receiver.seqs().includes(last));
      expect(kinds()).toHaveLength(2);

      // What the receiver got, as JSON lines on standard input: both checkpoints are found.
      const cli = startCli(['audit', 'verify', '--checkpoints', '-'], { DATABASE_URL: url });
      cli.child.stdin?.end(
        receiver
          .events()
          .map((e) => JSON.stringify(e))
          .join('\n'),
      );
      expect(await cli.exited()).toBe(0);
      expect(cli.stdout()).toContain('received checkpoints: 2, 2 found in the chain');
    } finally {
      await sender.stop();
      await receiver.stop();
      await checkpoints.stop();
      await db.close();
    }
  });
});
