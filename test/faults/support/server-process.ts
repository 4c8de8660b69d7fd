// `hallmark server` as a child process on a shared DATABASE_URL, the way an operator runs replicas.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startCli, type CliProcess } from '../../helpers/cli-process.js';
import type { TestKubernetesApi } from '../../k8s-api/index.js';
import { HallmarkClient } from './hallmark-client.js';

/** Start-up of a tsx-compiled server is a few seconds; this bounds it generously. */
const START_LIMIT_MS = 60_000;

/** A running server process and a client for it. */
export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly cli: CliProcess;
  /** A client trusting the bundle the server wrote when it started. */
  readonly client: HallmarkClient;
  /** A client trusting the bundle file as it is now (after a CA rotation). */
  freshClient(): Promise<HallmarkClient>;
  /** Sends `signal`, waits for the exit, then closes the clients. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes the test Kubernetes API's kubeconfig (it holds a credential: 0600) and returns its path. */
export async function writeKubeconfig(k8s: TestKubernetesApi, dir: string): Promise<string> {
  const file = path.join(dir, 'kubeconfig.yaml');
  await writeFile(file, k8s.kubeconfig(), { mode: 0o600 });
  return file;
}

/**
 * Starts `hallmark server` with `env` on 127.0.0.1 (any free port) and waits for its
 * `listening on` line. Logs at `warn`: audit rows would otherwise fill the captured stdout.
 */
export async function startServerProcess(
  dataDir: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const cli = startCli(['server'], {
    HALLMARK_DATA_DIR: dataDir,
    HALLMARK_LISTEN: '127.0.0.1:0',
    HALLMARK_LOG_LEVEL: 'warn',
    ...env,
  });
  let url: string;
  try {
    [, url = ''] = await cli.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/, START_LIMIT_MS);
  } catch (err) {
    await cli.stop('SIGKILL').catch(() => undefined);
    throw err;
  }
  const clients: HallmarkClient[] = [];
  const freshClient = async (): Promise<HallmarkClient> => {
    const client = new HallmarkClient(
      url,
      await readFile(path.join(dataDir, 'bundle.pem'), 'utf8'),
    );
    clients.push(client);
    return client;
  };
  const client = await freshClient();
  return {
    url,
    dataDir,
    cli,
    client,
    freshClient,
    async stop(signal = 'SIGTERM') {
      // Signal first: closing the clients first would wait for, and refuse, the calls of a load.
      const code = await cli.stop(signal);
      await Promise.all(clients.map((c) => c.close()));
      return code;
    },
  };
}
