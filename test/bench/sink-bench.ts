// The syslog sink's delivery rate for `npm run bench`: rows already committed, sent over TLS to rsyslogd.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import {
  ADVISORY_LOCKS,
  Database,
  MIGRATIONS,
  SessionLock,
  migrate,
  startEmbeddedPostgres,
} from '../../src/db/index.js';
import { SinkMetrics, SinkSender, SyslogTransport } from '../../src/sink/index.js';
import { RSYSLOG_TESTS, startRsyslog } from '../helpers/rsyslog-receiver.js';
import { testPki } from '../sink/sink-fixtures.js';

/**
 * Rows per second from the first send to the last row in rsyslogd's file (OCSF payload, TLS,
 * orderly-close confirmation each second), for `rows` rows committed beforehand. Undefined
 * when rsyslogd is not installed.
 */
export async function measureSyslogSink(rows: number): Promise<{ perSecond: number } | undefined> {
  if (!RSYSLOG_TESTS) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-sink-'));
  await chmod(dir, 0o711);
  const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
  const db = new Database(cluster.url, { max: 4 });
  const pki = await testPki();
  const rsyslog = await startRsyslog({
    protocol: 'tls',
    tls: { ...pki.server, ca: pki.ca, requireClientCert: false },
  });
  try {
    await migrate(db, MIGRATIONS);
    const audit = new PgAuditLog(db, systemClock);
    for (let done = 0; done < rows; done += 1_000) {
      await Promise.all(
        Array.from({ length: Math.min(1_000, rows - done) }, (_, i) =>
          audit.append({
            actor: 'key:bench',
            action: 'secret.read',
            target: `bench/s${i}@v1`,
            outcome: 'success',
          }),
        ),
      );
    }
    const sender = new SinkSender({
      db,
      transport: new SyslogTransport({
        target: { protocol: 'tls', host: '127.0.0.1', port: rsyslog.port, ca: pki.ca },
        format: 'ocsf',
        product: { version: 'bench' },
        origin: { hostname: 'bench', procId: String(process.pid), appVersion: 'bench' },
      }),
      acquire: () => SessionLock.tryAcquire(cluster.url, ADVISORY_LOCKS.auditSinks, 1),
      audit,
      clock: systemClock,
      log: { info: () => undefined, warn: () => undefined },
      metrics: new SinkMetrics(new Registry()),
    });
    const started = performance.now();
    sender.start();
    while ((await rsyslog.lines()).length < rows) await new Promise((r) => setTimeout(r, 50));
    const elapsed = (performance.now() - started) / 1000;
    await sender.stop();
    return { perSecond: rows / elapsed };
  } finally {
    await rsyslog.close();
    await db.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
