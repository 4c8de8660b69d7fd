// One of the cluster's workers: told the host by the primary, it serves like a replica until told to stop.
import cluster from 'node:cluster';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/index.js';
import type { MetricsSource } from '../http/index.js';
import {
  parsePrimaryMessage,
  type HostMessage,
  type MetricsAnswer,
  type WorkerMessage,
} from './cluster-messages.js';
import { startServer, type RunningServer, type WorkerRole } from './hallmark-server.js';

/** How long a `/metrics` request waits for the primary (it waits 2 s for the workers). */
const METRICS_WAIT_MS = 10_000;
/** After a graceful stop, how long anything left open may delay the exit. */
const EXIT_GRACE_MS = 10_000;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/** Answers the primary's requests from `own`, and asks it for every worker's on `/metrics`. */
function gatheredMetrics(own: Registry): MetricsSource {
  const pending = new Map<number, (answer: MetricsAnswer) => void>();
  let nextId = 0;
  process.on('message', (raw: unknown) => {
    const message = parsePrimaryMessage(raw);
    if (message?.kind === 'hallmark:metrics-collect') {
      void own
        .getMetricsAsJSON()
        .then((metrics) => send({ kind: 'hallmark:metrics-json', id: message.id, metrics }));
    } else if (message?.kind === 'hallmark:metrics-text') {
      pending.get(message.id)?.(message);
    }
  });
  return {
    contentType: own.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the primary did not gather the metrics in time'));
        }, METRICS_WAIT_MS);
        pending.set(id, (answer) => {
          clearTimeout(timer);
          pending.delete(id);
          if (answer.text !== undefined) resolve(answer.text);
          else reject(new Error(answer.error ?? 'no metrics'));
        });
        send({ kind: 'hallmark:metrics', id });
      }),
  };
}

/** Says hello and waits for the primary to name the host. */
function hostFromPrimary(): Promise<HostMessage> {
  return new Promise((resolve) => {
    const listener = (raw: unknown): void => {
      const message = parsePrimaryMessage(raw);
      if (message?.kind !== 'hallmark:host') return;
      process.off('message', listener);
      resolve(message);
    };
    process.on('message', listener);
    send({ kind: 'hallmark:hello' });
  });
}

/** Resolves on the primary's stop message, or on SIGTERM/SIGINT sent to this process. */
function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    const listener = (raw: unknown): void => {
      if (parsePrimaryMessage(raw)?.kind === 'hallmark:stop') resolve();
    };
    process.on('message', listener);
    // A terminal's Ctrl-C reaches the whole process group; the primary stops everyone anyway.
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Leaves the cluster once nothing is left to do, so the process exits with its exit code. */
function leave(): void {
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
  cluster.worker?.disconnect();
}

/**
 * Runs this process as a worker of the cluster: the primary prepared the host (PostgreSQL,
 * migrations, first-start keys); this serves on the shared listener like a replica, until the
 * primary (or a signal) stops it.
 * @returns the exit code: 0 after a graceful stop, 1 if the server could not start.
 */
export async function serveAsWorker(config: ServerConfig): Promise<number> {
  const stop = stopRequested();
  const host = await hostFromPrimary();
  const role: WorkerRole = {
    slot: host.slot,
    publishBundle: (bundle) =>
      send({
        kind: 'hallmark:bundle',
        sequence: bundle.sequence,
        pem: bundle.certificatesPem.join(''),
      }),
    metrics: gatheredMetrics,
  };
  let server: RunningServer;
  try {
    // Listening on the configured address joins the primary's one listener: even `:0` is one
    // port for every worker while any of them holds it (node:cluster keys it by the address).
    server = await startServer(config, {
      worker: role,
      host: {
        databaseUrl: host.databaseUrl,
        embedded: host.embedded,
        admin: { created: false, file: path.join(config.dataDir, 'admin.key') },
        lost: new Promise<Error>(() => undefined),
        close: async () => undefined,
      },
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    send({
      kind: 'hallmark:failed',
      reason: `${code ? `${code}: ` : ''}${(err as Error).message}`,
    });
    process.exitCode = 1;
    leave();
    return 1;
  }
  send({ kind: 'hallmark:listening', port: server.port, url: server.url });
  await stop;
  await server.close();
  leave();
  return 0;
}
