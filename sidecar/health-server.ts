// The health listener: GET /healthz for Kubernetes probes and GET /metrics for Prometheus.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What `/healthz` reports: `healthy` picks 200 or 503, `details` is the JSON body. */
export interface HealthReport {
  readonly healthy: boolean;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly report: () => HealthReport;
  readonly metrics: Registry;
}

/** A running health listener. */
export interface HealthServer {
  readonly port: number;
  /** `http://host:port` (loopback when listening on every address). */
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: HealthServerOptions,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'method not allowed\n');
  } else if (path === '/healthz') {
    const report = options.report();
    send(res, report.healthy ? 200 : 503, 'application/json', JSON.stringify(report.details));
  } else if (path === '/metrics') {
    send(res, 200, options.metrics.contentType, await options.metrics.metrics());
  } else {
    send(res, 404, 'text/plain', 'not found\n');
  }
}

/** Starts the listener; plain HTTP, as kubelet probes and Prometheus scrapes in a pod expect. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    handle(req, res, options).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  // Probes are tiny; do not let a slow client hold a socket.
  server.requestTimeout = 5000;
  server.headersTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
