// A whole Hallmark whose server logs at trace level into memory (the log-hygiene fixture).
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { Agent, type Dispatcher } from 'undici';
import { createKubernetesApi } from '../../src/attest/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/http/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { LIFTED_PREAUTH_LIMITS } from '../helpers/hallmark-stack.js';
import { startTestKubernetesApi, type TestKubernetesApi } from '../k8s-api/index.js';
import { MemoryLog } from './log-capture.js';

/** One request; the path is sent exactly as written. */
export interface LoggedRequest {
  readonly method: Dispatcher.HttpMethod;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly raw?: string;
  readonly dispatcher?: Dispatcher;
}

/** Status and parsed body (`{text}` when not JSON). */
export interface LoggedResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The running fixture. */
export interface LoggedStack {
  readonly server: RunningServer;
  readonly k8s: TestKubernetesApi;
  /** Every line the server's pino logger wrote. */
  readonly serverLog: MemoryLog;
  readonly adminKey: string;
  /** `HALLMARK_MASTER_KEY` and the database password: secrets too. */
  readonly masterKey: string;
  readonly databasePassword: string;
  send(request: LoggedRequest): Promise<LoggedResponse>;
  agent(clientCert?: { cert: string; key: string }): Agent;
  close(): Promise<void>;
}

/**
 * Starts the test Kubernetes API and a server wired to it, logging at `trace` (request logs
 * included) through the product's own logger factory — so its redaction is what is tested —
 * into memory.
 */
export async function startLoggedStack(env: Record<string, string> = {}): Promise<LoggedStack> {
  const k8s = await startTestKubernetesApi();
  const dataDir = await tempDataDir();
  const serverLog = new MemoryLog();
  const masterKey = randomBytes(32).toString('base64');
  const databaseUrl = await createEmptyDatabase();
  const config = loadServerConfig({
    env: {
      HALLMARK_DATA_DIR: dataDir,
      HALLMARK_LISTEN: '127.0.0.1:0',
      HALLMARK_MASTER_KEY: masterKey,
      HALLMARK_LOG_LEVEL: 'trace',
      DATABASE_URL: databaseUrl,
      HALLMARK_K8S_TIMEOUT: '2s',
      ...LIFTED_PREAUTH_LIMITS,
      ...env,
    },
  });
  const server = await startServer(config, {
    logger: createLogger('trace', serverLog),
    kubernetes: createKubernetesApi({
      kubeconfigYaml: k8s.kubeconfig(),
      timeoutMs: config.kubernetesTimeoutMs,
    }),
    caTicker: false,
  });
  const agents: Agent[] = [];
  const agent = (clientCert?: { cert: string; key: string }): Agent => {
    const created = new Agent({
      connect: { ca: server.ca.bundle().certificatesPem.join(''), ...clientCert },
    });
    agents.push(created);
    return created;
  };
  const plain = agent();
  return {
    server,
    k8s,
    serverLog,
    adminKey: (await readFile(server.admin.file, 'utf8')).trim(),
    masterKey,
    databasePassword: decodeURIComponent(new URL(databaseUrl).password),
    agent,
    async send(request) {
      const response = await (request.dispatcher ?? plain).request({
        origin: server.url,
        path: request.path,
        method: request.method,
        headers: {
          ...(request.json === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body:
          request.raw ?? (request.json === undefined ? undefined : JSON.stringify(request.json)),
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
      const text = await response.body.text();
      try {
        return { status: response.statusCode, body: JSON.parse(text) as Record<string, unknown> };
      } catch {
        return { status: response.statusCode, body: { text } };
      }
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      await k8s.close();
    },
  };
}
