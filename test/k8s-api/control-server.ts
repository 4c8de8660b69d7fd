// The control endpoint: lets scripts in other processes add and delete pods and mint tokens.
// It is not Kubernetes API: its own port, its own token, never the Hallmark service account's.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody, sendJson } from './http-exchange.js';
import type { PodInput, PodPhase } from './pod-store.js';
import type { TestKubernetesApi } from './test-kubernetes-api.js';
import type { IssueTokenOptions } from './token-authority.js';

/** A running control endpoint. */
export interface ControlServer {
  /** `http://127.0.0.1:<port>/_test`. */
  url: string;
  /** Bearer token the control endpoint requires. */
  token: string;
  close(): Promise<void>;
}

function object(body: string): Record<string, unknown> {
  if (body === '') return {};
  const value = JSON.parse(body) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function sameToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

async function route(
  api: TestKubernetesApi,
  method: string,
  parts: string[],
  query: URLSearchParams,
  body: Record<string, unknown>,
): Promise<[number, unknown]> {
  const [collection, namespace, name, action] = parts;
  if (collection === 'pods') {
    if (method === 'POST' && parts.length === 1) {
      return [201, api.addPod(body as unknown as PodInput)];
    }
    if (namespace === undefined || name === undefined) return [404, { error: 'not found' }];
    if (api.getPod(namespace, name) === undefined) return [404, { error: 'pod not found' }];
    if (method === 'GET' && action === undefined) return [200, api.getPod(namespace, name)];
    if (method === 'DELETE' && action === undefined) {
      const grace = query.get('gracePeriodSeconds');
      api.deletePod(namespace, name, {
        terminating: query.get('terminating') === 'true',
        gracePeriodSeconds: grace === null ? undefined : Number(grace),
      });
      return [200, { deleted: `${namespace}/${name}` }];
    }
    if (method === 'POST' && action === 'recreate') return [200, api.recreatePod(namespace, name)];
    if (method === 'PUT' && action === 'phase') {
      return [200, api.setPhase(namespace, name, body.phase as PodPhase)];
    }
  }
  if (collection === 'tokens' && method === 'POST') {
    return [201, { token: await api.issueToken(body as unknown as IssueTokenOptions) }];
  }
  if (collection === 'requests') {
    if (method === 'GET') {
      return [200, { requests: api.requests(), unexpected: api.unexpectedRequests() }];
    }
    if (method === 'DELETE') {
      api.clearRequests();
      return [200, {}];
    }
  }
  if (collection === 'latency' && method === 'PUT') {
    api.setLatency(Number(body.ms ?? 0));
    return [200, {}];
  }
  if (collection === 'fail-next' && method === 'POST') {
    api.failNext(Number(body.status ?? 503), Number(body.count ?? 1));
    return [200, {}];
  }
  if (collection === 'down' && method === 'PUT') {
    await api.setDown(body.down === true, body.mode === 'unavailable' ? 'unavailable' : 'refuse');
    return [200, {}];
  }
  return [404, { error: 'not found' }];
}

/**
 * Serves `/_test/...` on plain HTTP at 127.0.0.1 (loopback only; the token guards it):
 * `POST pods`, `GET|DELETE pods/{ns}/{name}` (`?terminating=true&gracePeriodSeconds=N`),
 * `POST pods/{ns}/{name}/recreate`, `PUT pods/{ns}/{name}/phase {phase}`, `POST tokens`,
 * `GET|DELETE requests`, `PUT latency {ms}`, `POST fail-next {status,count}`,
 * `PUT down {down,mode}`.
 */
export async function startControlServer(
  api: TestKubernetesApi,
  options: { port?: number; token?: string } = {},
): Promise<ControlServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sameToken(req.headers.authorization, token)) {
      sendJson(res, 401, { error: 'control token required' });
      return;
    }
    const target = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = target.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== '_test') {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    try {
      const body = object(await readBody(req));
      const [status, answer] = await route(
        api,
        req.method ?? 'GET',
        parts.slice(1).map(decodeURIComponent),
        target.searchParams,
        body,
      );
      sendJson(res, status, answer);
    } catch (err) {
      sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  };
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/_test`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
