// A whole Hallmark in-process for end-to-end tests: the real server (HTTPS on 127.0.0.1, a fresh
// database in the shared embedded cluster) attesting pods against the test Kubernetes API.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { createKubernetesApi } from '../../src/attest/index.js';
import type { Clock } from '../../src/clock/index.js';
import { loadServerConfig, type ServerConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import {
  startTestKubernetesApi,
  type TestKubernetesApi,
  type TestKubernetesApiOptions,
} from '../k8s-api/index.js';
import { tempDataDir } from './cli-process.js';
import { createEmptyDatabase } from './database.js';

/** A parsed JSON response (or the raw text for non-JSON responses, under `text`). */
export interface ResponseBody {
  error?: { code: string; message: string; details?: unknown };
  text?: string;
  [key: string]: unknown;
}

/** Options of {@link HallmarkStack.call}. */
export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** A raw body sent as is (set `content-type` yourself). */
  raw?: string;
  dispatcher?: Dispatcher;
}

/** A running server, its Kubernetes API and an HTTPS client trusting its bundle. */
export interface HallmarkStack {
  server: RunningServer;
  k8s: TestKubernetesApi;
  config: ServerConfig;
  databaseUrl: string;
  /** JSON request to the server; returns status and parsed body. */
  call(
    method: Dispatcher.HttpMethod,
    path: string,
    options?: CallOptions,
  ): Promise<{ status: number; body: ResponseBody }>;
  /** An undici agent trusting the bundle, optionally presenting a client certificate. */
  agent(clientCert?: { cert: string; key: string }): Agent;
  close(): Promise<void>;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  env?: Record<string, string>;
  k8s?: TestKubernetesApiOptions;
  policy?: string;
  clock?: Clock;
  databaseUrl?: string;
  caTicker?: boolean;
  /** `false`: no checkpoint tickers (the test signs checkpoints with `checkpointer.round()`). */
  checkpointTicker?: boolean;
  /**
   * Keep the server's pre-authentication limits as configured. By default a stack lifts them
   * ({@link LIFTED_PREAUTH_LIMITS}): every test client shares 127.0.0.1 and many tests send
   * more refusals from it than a real address would.
   */
  realLimits?: boolean;
  /** Run the server's own embedded PostgreSQL under its data directory (no DATABASE_URL). */
  embeddedPostgres?: boolean;
}

/**
 * Pre-authentication settings that no test client reaches, for servers under tests that are
 * not about that limit.
 */
export const LIFTED_PREAUTH_LIMITS: Readonly<Record<string, string>> = {
  HALLMARK_PREAUTH_RATE: '1000000',
  HALLMARK_PREAUTH_BURST: '1000000',
};

/** Starts the test Kubernetes API and a server wired to it. */
export async function startStack(options: StackOptions = {}): Promise<HallmarkStack> {
  const k8s = await startTestKubernetesApi(options.k8s);
  const dataDir = await tempDataDir();
  const databaseUrl = options.embeddedPostgres
    ? ''
    : (options.databaseUrl ?? (await createEmptyDatabase()));
  const config = loadServerConfig({
    env: {
      HALLMARK_DATA_DIR: dataDir,
      HALLMARK_LISTEN: '127.0.0.1:0',
      HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
      HALLMARK_LOG_LEVEL: 'silent',
      ...(options.embeddedPostgres ? {} : { DATABASE_URL: databaseUrl }),
      HALLMARK_K8S_TIMEOUT: '2s',
      ...(options.realLimits === true ? {} : LIFTED_PREAUTH_LIMITS),
      ...options.env,
    },
  });
  const kubernetes = createKubernetesApi({
    kubeconfigYaml: k8s.kubeconfig(),
    timeoutMs: config.kubernetesTimeoutMs,
  });
  const server = await startServer(config, {
    kubernetes,
    clock: options.clock,
    caTicker: options.caTicker,
    checkpointTicker: options.checkpointTicker,
  });
  if (options.policy !== undefined) await server.policy.load(options.policy, 'test');
  const agents: Agent[] = [];
  const agent = (clientCert?: { cert: string; key: string }): Agent => {
    const created = new Agent({
      connect: { ca: server.ca.bundle().certificatesPem.join(''), ...clientCert },
    });
    agents.push(created);
    return created;
  };
  const shared = agent();
  return {
    server,
    k8s,
    config,
    databaseUrl,
    agent,
    async call(method, path, callOptions = {}) {
      const hasBody = callOptions.body !== undefined || callOptions.raw !== undefined;
      const response = await request(`${server.url}${path}`, {
        method,
        dispatcher: callOptions.dispatcher ?? shared,
        headers: {
          ...(hasBody && callOptions.raw === undefined
            ? { 'content-type': 'application/json' }
            : {}),
          ...callOptions.headers,
        },
        body:
          callOptions.raw ??
          (callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body)),
        headersTimeout: 20_000,
        bodyTimeout: 20_000,
      });
      const text = await response.body.text();
      let body: ResponseBody;
      try {
        body = JSON.parse(text) as ResponseBody;
      } catch {
        body = { text }; // not JSON: PEM bundle, metrics
      }
      return { status: response.statusCode, body };
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      await k8s.close(); // strict: rejects if the server made any call outside deploy/rbac.yaml
    },
  };
}
