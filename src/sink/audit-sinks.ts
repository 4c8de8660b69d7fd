// Starts one sender per configured sink, woken by the audit_log NOTIFY; none of it on a request's path.
import os from 'node:os';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import { HALLMARK_VERSION, type AuditSinksConfig } from '../config/index.js';
import { ADVISORY_LOCKS, SessionLock, type Database } from '../db/index.js';
import { SinkMetrics } from './sink-metrics.js';
import { SinkSender, type SenderTiming, type SinkLogger } from './sink-sender.js';
import type { SinkTransport } from './sink-transport.js';
import { SyslogTransport } from './syslog-transport.js';
import { WebhookTransport } from './webhook-transport.js';

/** The channel migration 12's trigger notifies after every appending statement. */
export const AUDIT_APPENDED_CHANNEL = 'hallmark_audit_appended';

/** Fixed lock ids within `ADVISORY_LOCKS.auditSinks`, one per sink. */
const SINK_LOCK_IDS: Readonly<Record<string, number>> = { syslog: 1, webhook: 2 };

/** What the sinks need. */
export interface AuditSinksDeps {
  readonly config: AuditSinksConfig;
  readonly db: Database;
  /** The database URL, for each sender's lock connection. */
  readonly databaseUrl: string;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly log: SinkLogger;
  readonly metrics: Registry;
  readonly trustDomain: string;
  readonly timing?: Partial<SenderTiming>;
}

/** The running senders. */
export interface AuditSinks {
  /** Names of the configured sinks. */
  readonly names: readonly string[];
  wake(): void;
  stop(): Promise<void>;
}

function transportsOf(deps: AuditSinksDeps): (SinkTransport & { close?(): Promise<void> })[] {
  const { config } = deps;
  const product = { version: HALLMARK_VERSION };
  const transports: (SinkTransport & { close?(): Promise<void> })[] = [];
  if (config.syslog) {
    transports.push(
      new SyslogTransport({
        target: config.syslog,
        format: config.format,
        product,
        origin: {
          hostname: os.hostname(),
          procId: String(process.pid),
          appVersion: HALLMARK_VERSION,
        },
      }),
    );
  }
  if (config.webhook) {
    transports.push(
      new WebhookTransport({
        target: config.webhook,
        format: config.format,
        product,
        source: `urn:hallmark:${deps.trustDomain}:audit`,
      }),
    );
  }
  return transports;
}

/**
 * Starts a sender per configured sink. It returns at once: a receiver that is down, or a
 * database that is, only shows in the metrics and the log.
 */
export async function startAuditSinks(deps: AuditSinksDeps): Promise<AuditSinks> {
  const transports = transportsOf(deps);
  const metrics = transports.length > 0 ? new SinkMetrics(deps.metrics) : undefined;
  const senders = transports.map(
    (transport) =>
      new SinkSender({
        db: deps.db,
        transport,
        acquire: () =>
          SessionLock.tryAcquire(
            deps.databaseUrl,
            ADVISORY_LOCKS.auditSinks,
            SINK_LOCK_IDS[transport.name] ?? 0,
          ),
        audit: deps.audit,
        clock: deps.clock,
        log: deps.log,
        metrics: metrics as SinkMetrics,
        timing: { lagAlarmMs: deps.config.lagAlarmSeconds * 1000, ...deps.timing },
      }),
  );
  const wake = (): void => {
    for (const sender of senders) sender.wake();
  };
  const unsubscribe =
    senders.length > 0 ? await deps.db.subscribe(AUDIT_APPENDED_CHANNEL, wake) : undefined;
  for (const sender of senders) sender.start();
  return {
    names: transports.map((t) => t.name),
    wake,
    async stop() {
      unsubscribe?.();
      await Promise.all(senders.map((sender) => sender.stop()));
      await Promise.all(transports.map((t) => t.close?.()));
    },
  };
}
