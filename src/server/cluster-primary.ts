// The cluster's primary: prepares the host once, runs HALLMARK_WORKERS workers on one listener, replaces the dead.
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AdminBootstrap } from '../authn/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { ServerConfig } from '../config/index.js';
import { BundleFile } from './bundle-file.js';
import { parseWorkerMessage, type PrimaryMessage } from './cluster-messages.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { serverLogger } from './hallmark-server.js';
import { prepareHost } from './host-preparation.js';
import { DEFAULT_RESTART_POLICY, WorkerRestarts, type RestartPolicy } from './worker-restarts.js';

/** How long the workers get to finish their requests and stop before they are killed. */
const STOP_GRACE_MS = 30_000;

/** A running cluster, as the CLI needs it. */
export interface RunningCluster {
  readonly url: string;
  readonly admin: AdminBootstrap;
  readonly bundleFile: string;
  readonly embedded: boolean;
  readonly workers: number;
  /**
   * Resolves (never rejects) once the cluster cannot serve any more and must exit non-zero:
   * a worker kept dying, or the embedded PostgreSQL died and could not be restarted.
   */
  readonly lost: Promise<Error>;
  /** Stops every worker (each finishes its requests), then the embedded PostgreSQL. */
  close(): Promise<void>;
}

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  clock?: Clock;
  logger?: Logger;
  restartPolicy?: RestartPolicy;
}

/** One worker process in its slot. */
interface Slot {
  readonly worker: Worker;
  readonly startedAt: number;
  readonly exit: Promise<void>;
  listening: boolean;
  /** Why its start failed, as it said before exiting. */
  reason?: string;
}

function send(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}

/**
 * Starts the cluster: this (primary) process prepares the host (data dir, embedded PostgreSQL,
 * migrations, master key, admin key), then forks `config.workers` workers that share the
 * listener and coordinate through PostgreSQL like replicas. It writes `bundle.pem` for them,
 * gathers their metrics, and restarts a worker that dies (with backoff).
 * Rejects if a worker cannot start, having stopped everything it started.
 */
export async function startCluster(
  config: ServerConfig,
  options: ClusterOptions = {},
): Promise<RunningCluster> {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? serverLogger(config);
  const host = await prepareHost(config, log, clock);
  // The primary signs nothing: it opened the token only to refuse a wrong configuration before
  // PostgreSQL started. Each worker opens its own, and makes and uses every signing key in it.
  await host.vault?.close();
  const bundleFile = path.join(config.dataDir, 'bundle.pem');
  const bundle = new BundleFile(bundleFile, (err) =>
    log.warn({ err: err.message }, 'bundle.pem not written'),
  );
  const metrics = new ClusterMetrics();
  const restarts = new WorkerRestarts(clock, options.restartPolicy ?? DEFAULT_RESTART_POLICY);
  const slots = new Map<number, Slot>();
  const timers = new Set<NodeJS.Timeout>();
  let url: string | undefined;
  let stopping = false;
  let lose: (err: Error) => void = () => undefined;
  const lost = new Promise<Error>((resolve) => (lose = resolve));
  void host.lost.then((err) => lose(err));
  let started: { resolve(): void; reject(err: Error): void } | undefined;
  const allListening = new Promise<void>((resolve, reject) => (started = { resolve, reject }));

  const exited = (slot: number, entry: Slot, code: number | null, signal: string | null): void => {
    if (stopping || slots.get(slot) !== entry) return;
    const how = signal ?? `code ${code}`;
    if (started !== undefined) {
      started.reject(new Error(`worker ${slot} did not start: ${entry.reason ?? how}`));
      return;
    }
    const decision = restarts.exited(slot, entry.startedAt);
    if (decision.kind === 'give-up') {
      log.fatal({ worker: slot, restarts: decision.restarts }, 'worker keeps exiting; giving up');
      lose(
        new Error(
          `worker ${slot} exited (${entry.reason ?? how}) after ${decision.restarts} restarts in a row`,
        ),
      );
      return;
    }
    log.error(
      {
        worker: slot,
        workerPid: entry.worker.process.pid,
        exit: how,
        reason: entry.reason,
        retryInMs: decision.delayMs,
      },
      'worker exited unexpectedly; restarting it',
    );
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopping) fork(slot);
    }, decision.delayMs);
    timers.add(timer);
  };

  const fork = (slot: number): void => {
    const worker = cluster.fork();
    const entry: Slot = {
      worker,
      startedAt: clock.now(),
      listening: false,
      exit: new Promise((resolve) => worker.once('exit', () => resolve())),
    };
    slots.set(slot, entry);
    worker.on('exit', (code: number | null, signal: string | null) =>
      exited(slot, entry, code, signal),
    );
    worker.on('message', (raw: unknown) => {
      const message = parseWorkerMessage(raw);
      switch (message?.kind) {
        case 'hallmark:hello':
          return send(worker, {
            kind: 'hallmark:host',
            slot,
            databaseUrl: host.databaseUrl,
            embedded: host.embedded,
          });
        case 'hallmark:failed':
          entry.reason = message.reason;
          return;
        case 'hallmark:bundle':
          return void bundle.offer(message.sequence, message.pem);
        case 'hallmark:listening':
          entry.listening = true;
          url ??= message.url;
          log.info({ worker: slot, workerPid: worker.process.pid }, 'worker listening');
          if (started !== undefined && [...slots.values()].every((s) => s.listening)) {
            started.resolve();
            started = undefined;
          }
          return;
        case 'hallmark:metrics': {
          const serving = [...slots.values()].filter((s) => s.listening && !s.worker.isDead());
          void metrics
            .gather(serving.map((s) => ({ send: (m: PrimaryMessage) => send(s.worker, m) })))
            .then(
              (text) => send(worker, { kind: 'hallmark:metrics-text', id: message.id, text }),
              (err: Error) =>
                send(worker, { kind: 'hallmark:metrics-text', id: message.id, error: err.message }),
            );
          return;
        }
        case 'hallmark:metrics-json':
          return metrics.received(message);
        default:
          return;
      }
    });
  };

  const close = async (): Promise<void> => {
    stopping = true;
    for (const timer of timers) clearTimeout(timer);
    const running = [...slots.values()].filter((s) => !s.worker.isDead());
    for (const slot of running) send(slot.worker, { kind: 'hallmark:stop' });
    const kill = setTimeout(() => {
      for (const slot of running) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await Promise.all(running.map((slot) => slot.exit));
    clearTimeout(kill);
    await bundle.settled();
    await host.close();
  };

  // The workers run this same program (the CLI finds itself a worker and serves).
  for (let slot = 1; slot <= config.workers; slot++) fork(slot);
  try {
    await allListening;
    await bundle.settled();
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return {
    url: url as string,
    admin: host.admin,
    bundleFile,
    embedded: host.embedded,
    workers: config.workers,
    lost,
    close,
  };
}
