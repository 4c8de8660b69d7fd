// Shared pieces of the sink tests: TLS identities, a sender on a fresh database, received seqs.
import type { KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import { HTTP } from 'cloudevents';
import { Registry } from 'prom-client';
import { PgAuditLog, type AuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { ADVISORY_LOCKS, SessionLock, type Database } from '../../src/db/index.js';
import { SinkMetrics } from '../../src/sink/sink-metrics.js';
import { SinkSender, type SenderTiming } from '../../src/sink/sink-sender.js';
import type { SinkTransport } from '../../src/sink/sink-transport.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { buildSelfSignedCa, generateKeyPair, issueServerSvid } from '../../src/x509/index.js';

/** A CA and certificates it issued for 127.0.0.1 (receiver) and for a client. */
export interface TestPki {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

async function leaf(
  caPem: string,
  caKey: KeyObject,
  id: string,
): Promise<{ cert: string; key: string }> {
  const keys = generateKeyPair('ec-p256');
  const svid = await issueServerSvid({
    spiffeId: parseSpiffeId(id),
    publicKey: keys.publicKey,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 3600,
    authority: { certificatePem: caPem, privateKey: caKey, chainPem: [] },
    clock: systemClock,
  });
  return {
    cert: svid.certificatePem,
    key: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** A fresh P-256 CA with a receiver and a client certificate. */
export async function testPki(name = 'sink.test'): Promise<TestPki> {
  const caKeys = generateKeyPair('ec-p256');
  const ca = await buildSelfSignedCa({
    trustDomain: name,
    keyPair: caKeys,
    ttlSeconds: 3600,
    clock: systemClock,
  });
  return {
    ca,
    server: await leaf(ca, caKeys.privateKey, `spiffe://${name}/receiver`),
    client: await leaf(ca, caKeys.privateKey, `spiffe://${name}/hallmark`),
  };
}

/** Short timings so outages and takeovers resolve within a test. */
export const FAST: Partial<SenderTiming> = {
  confirmMs: 300,
  pollMs: 100,
  retryMinMs: 100,
  retryMaxMs: 500,
  lockRetryMs: 200,
};

export const SILENT = { info: () => undefined, warn: () => undefined };

/** A sender for `transport` on `db`, with its own metrics registry. */
export function senderFor(
  db: Database,
  url: string,
  transport: SinkTransport,
  options: { audit?: AuditLog; timing?: Partial<SenderTiming> } = {},
): { sender: SinkSender; registry: Registry; metrics: SinkMetrics } {
  const registry = new Registry();
  const metrics = new SinkMetrics(registry);
  const sender = new SinkSender({
    db,
    transport,
    acquire: () => SessionLock.tryAcquire(url, ADVISORY_LOCKS.auditSinks, 1),
    audit: options.audit ?? new PgAuditLog(db, systemClock),
    clock: systemClock,
    log: SILENT,
    metrics,
    timing: { ...FAST, ...options.timing },
  });
  return { sender, registry, metrics };
}

/** The value of a metric (summed over its label values). */
export async function metricValue(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/** Appends `n` rows; returns their seqs. */
export async function appendRows(audit: AuditLog, n: number, tag = 'x'): Promise<number[]> {
  const records = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      audit.append({
        actor: 'key:admin',
        action: 'secret.read',
        target: `app/${tag}${i}@v1`,
        outcome: 'success',
      }),
    ),
  );
  return records.map((r) => r.seq);
}

/** The `seq` SD-PARAM of each received row's RFC 5424 line, in arrival order (checkpoints left out). */
export function receivedSeqs(lines: readonly string[]): number[] {
  return lines
    .filter((line) => !/ checkpoint \[hallmark@32473 /.test(line))
    .map((line) => {
      const match = /\[hallmark@32473 seq="(\d+)"/.exec(line);
      if (!match) throw new Error(`not a Hallmark message: ${line.slice(0, 120)}`);
      return Number(match[1]);
    });
}

/**
 * At-least-once and in order: every expected seq arrives, each first arrival in ascending
 * order, and a repeated seq is one already seen. Returns the number of duplicates.
 */
export function checkAtLeastOnceInOrder(
  seqs: readonly number[],
  expected: readonly number[],
): number {
  const seen = new Set<number>();
  let highest = 0;
  let duplicates = 0;
  for (const seq of seqs) {
    if (seen.has(seq)) {
      duplicates += 1;
      continue;
    }
    if (seq < highest) throw new Error(`seq ${seq} first arrived after ${highest}`);
    seen.add(seq);
    highest = seq;
  }
  const missing = expected.filter((seq) => !seen.has(seq));
  if (missing.length > 0) throw new Error(`missing seqs: ${missing.slice(0, 20).join(',')}…`);
  return duplicates;
}

/** Polls `check` until it is true or `ms` pass. */
export async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

/** One batch as the receiver got it. */
export interface Received {
  contentType: string;
  authorization: string | undefined;
  events: { id: string; sequence: string; type: string; data: Record<string, unknown> }[];
}

/** A real HTTPS receiver on 127.0.0.1 that accepts one bearer token and records each batch. */
export class HttpsReceiver {
  readonly batches: Received[] = [];
  token = 'token-1';
  #server: Server | undefined;
  constructor(
    private readonly tls: { cert: string; key: string },
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer(this.tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.token !== '' && req.headers.authorization !== `Bearer ${this.token}`) {
          res.writeHead(401).end();
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        // The official SDK parses the batch: every envelope must be a valid CloudEvent 1.0.
        const parsed = HTTP.toEvent({ headers: req.headers, body });
        const events = (Array.isArray(parsed) ? parsed : [parsed]) as unknown as Received['events'];
        this.batches.push({
          contentType: String(req.headers['content-type']),
          authorization: req.headers.authorization,
          events,
        });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** The seqs of the rows received, in arrival order (checkpoints left out). */
  seqs(): number[] {
    return this.events()
      .filter((e) => e.type === 'io.hallmark.audit.record.v1')
      .map((e) => Number(e.id.replace('audit-', '')));
  }

  /** Every event received, in arrival order. */
  events(): Received['events'] {
    return this.batches.flatMap((b) => b.events);
  }
}
