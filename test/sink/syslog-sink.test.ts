import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import type { Database } from '../../src/db/index.js';
import { SyslogTransport, type SyslogTarget } from '../../src/sink/syslog-transport.js';
import { createMigratedDatabase } from '../helpers/database.js';
import {
  RSYSLOG_SKIP_REASON,
  RSYSLOG_TESTS,
  startRsyslog,
  type RsyslogReceiver,
} from '../helpers/rsyslog-receiver.js';
import {
  appendRows,
  checkAtLeastOnceInOrder,
  eventually,
  metricValue,
  receivedSeqs,
  senderFor,
  testPki,
} from './sink-fixtures.js';

if (!RSYSLOG_TESTS) console.warn(RSYSLOG_SKIP_REASON);

const ORIGIN = { hostname: 'hallmark-test', procId: String(process.pid), appVersion: '0.1.0' };

function transport(target: SyslogTarget, format: 'ocsf' | 'hallmark' = 'ocsf'): SyslogTransport {
  return new SyslogTransport({
    target,
    format,
    product: { version: '0.1.0' },
    origin: ORIGIN,
    timeoutMs: 3_000,
  });
}

describe.skipIf(!RSYSLOG_TESTS)('syslog sink → rsyslog', async () => {
  const pki = await testPki();
  let url: string;
  let db: Database;
  const receivers: RsyslogReceiver[] = [];

  beforeAll(async () => {
    ({ url, db } = await createMigratedDatabase());
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await db?.close();
  });

  async function fresh(): Promise<{ url: string; db: Database }> {
    const created = await createMigratedDatabase();
    afterAll(() => created.db.close());
    return created;
  }

  async function receiver(options: Parameters<typeof startRsyslog>[0]): Promise<RsyslogReceiver> {
    const started = await startRsyslog(options);
    receivers.push(started);
    return started;
  }

  it('delivers every row over TLS (RFC 5425) as RFC 5424 with the OCSF event as MSG', async () => {
    const rsyslog = await receiver({
      protocol: 'tls',
      tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
    });
    const audit = new PgAuditLog(db, systemClock);
    const seqs = await appendRows(audit, 200);
    const { sender, registry } = senderFor(
      db,
      url,
      transport({ protocol: 'tls', host: '127.0.0.1', port: rsyslog.port, ca: pki.ca }),
    );
    sender.start();
    try {
      await eventually(async () => (await rsyslog.lines()).length >= 200);
      const lines = await rsyslog.lines();
      expect(receivedSeqs(lines)).toEqual(seqs);
      const stored = await db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 17');
      const line17 = lines[16] as string;
      expect(line17).toContain(`hash="${stored.rows[0]?.hash}"`);
      expect(line17).toMatch(
        /^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z hallmark-test hallmark \d+ secret\.read /,
      );
      const json = JSON.parse(line17.slice(line17.indexOf('\uFEFF') + 1)) as {
        class_uid: number;
        metadata: { uid: string };
      };
      expect(json).toMatchObject({ class_uid: 6003, metadata: { uid: '17', sequence: 17 } });
      await eventually(
        async () => (await metricValue(registry, 'hallmark_audit_sink_lag_rows')) === 0,
      );
      const cursor = await db.query<{ seq: string }>(
        "SELECT seq FROM audit_sink_cursors WHERE sink = 'syslog'",
      );
      expect(Number(cursor.rows[0]?.seq)).toBe(200);
    } finally {
      await sender.stop();
    }
  });

  it('refuses a receiver whose certificate does not verify: a metric, no delivery, no cursor move', async () => {
    const other = await testPki('other.test');
    const rsyslog = await receiver({
      protocol: 'tls',
      tls: { ...other.server, ca: other.ca, requireClientCert: false },
    });
    const { url: u, db: d } = await fresh();
    await appendRows(new PgAuditLog(d, systemClock), 5);
    const { sender, registry } = senderFor(
      d,
      u,
      transport({ protocol: 'tls', host: '127.0.0.1', port: rsyslog.port, ca: pki.ca }),
    );
    sender.start();
    try {
      await eventually(
        async () => (await metricValue(registry, 'hallmark_audit_sink_errors_total')) >= 2,
      );
      expect(await rsyslog.lines()).toEqual([]);
      expect(await metricValue(registry, 'hallmark_audit_sink_lag_rows')).toBe(5);
    } finally {
      await sender.stop();
    }
  });

  it('presents the client certificate to a receiver that requires one', async () => {
    const rsyslog = await receiver({
      protocol: 'tls',
      tls: { ...pki.server, ca: pki.ca, requireClientCert: true },
    });
    const { url: u, db: d } = await fresh();
    const seqs = await appendRows(new PgAuditLog(d, systemClock), 20);
    const target = { protocol: 'tls', host: '127.0.0.1', port: rsyslog.port, ca: pki.ca } as const;
    // Without it the receiver refuses the handshake and nothing is confirmed.
    const anonymous = senderFor(d, u, transport(target));
    anonymous.sender.start();
    await eventually(
      async () => (await metricValue(anonymous.registry, 'hallmark_audit_sink_errors_total')) >= 1,
    );
    await anonymous.sender.stop();
    const cursor = await d.query<{ seq: string }>('SELECT seq FROM audit_sink_cursors');
    expect(Number(cursor.rows[0]?.seq)).toBe(0);
    const { sender } = senderFor(d, u, transport({ ...target, ...pki.client }));
    sender.start();
    try {
      await eventually(async () => receivedSeqs(await rsyslog.lines()).includes(20));
      checkAtLeastOnceInOrder(receivedSeqs(await rsyslog.lines()), seqs);
    } finally {
      await sender.stop();
    }
  });

  it('delivers over plain TCP (RFC 6587 octet counting) and UDP (RFC 5426)', async () => {
    for (const protocol of ['tcp', 'udp'] as const) {
      const rsyslog = await receiver({ protocol });
      const { url: u, db: d } = await fresh();
      const seqs = await appendRows(new PgAuditLog(d, systemClock), 30);
      const { sender } = senderFor(
        d,
        u,
        transport({ protocol, host: '127.0.0.1', port: rsyslog.port }, 'hallmark'),
      );
      sender.start();
      try {
        await eventually(async () => (await rsyslog.lines()).length >= 30);
        expect(receivedSeqs(await rsyslog.lines())).toEqual(seqs);
        const line = (await rsyslog.lines())[0] as string;
        expect(JSON.parse(line.slice(line.indexOf('\uFEFF') + 1))).toMatchObject({ seq: 1 });
      } finally {
        await sender.stop();
      }
    }
  });

  it('loses nothing when the receiver hangs and is killed for 10 s under load: in order, duplicates only of seen seqs', async () => {
    const rsyslog = await receiver({
      protocol: 'tls',
      tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
    });
    const { url: u, db: d } = await fresh();
    const audit = new PgAuditLog(d, systemClock);
    const { sender, registry } = senderFor(
      d,
      u,
      transport({ protocol: 'tls', host: '127.0.0.1', port: rsyslog.port, ca: pki.ca }),
    );
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
      await eventually(async () => (await rsyslog.lines()).length >= 200);
      // It hangs first (what was sent since sits unread in its socket buffer), then dies:
      // rows the transport had merely written are lost with it and must be sent again.
      rsyslog.freeze();
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 1_500));
      await rsyslog.kill();
      await eventually(
        async () => (await metricValue(registry, 'hallmark_audit_sink_errors_total')) >= 1,
      );
      await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - killedAt)));
      await rsyslog.restart();
      await new Promise((r) => setTimeout(r, 1_000));
      loading = false;
      await load;
      const last = written.at(-1) as number;
      await eventually(async () => receivedSeqs(await rsyslog.lines()).includes(last), 30_000);
      const duplicates = checkAtLeastOnceInOrder(receivedSeqs(await rsyslog.lines()), written);
      expect(duplicates).toBeLessThan(written.length);
    } finally {
      loading = false;
      await load;
      await sender.stop();
    }
  }, 90_000);
});
