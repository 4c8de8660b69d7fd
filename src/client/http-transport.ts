// HTTPS transport of the client: one keep-alive node:https Agent, bounded calls, errors mapped to codes.
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { HallmarkClientError } from './client-error.js';

/** TLS and limits of a {@link HttpTransport}. */
export interface TransportOptions {
  /** Base URL, `https://host:port` (a path prefix is allowed). */
  url: string;
  /** PEM CA certificates that sign the server's certificate; nothing else is trusted. */
  ca: string | readonly string[];
  /** PEM client certificate chain and key, for mutual-TLS calls (login, JWT-SVIDs). */
  cert?: string;
  key?: string;
  /** Time limit of every call, connect to last body byte, in milliseconds (default 10 s). */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes (default 8 MiB). */
  maxResponseBytes?: number;
}

/** One request. `body` objects are sent as JSON; strings as they are with `contentType`. */
export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  json?: unknown;
  text?: string;
  contentType?: string;
}

/** An answer with a 2xx status. */
export interface TransportResponse {
  status: number;
  contentType: string;
  body: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

const TLS_ERROR =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** Maps a thrown transport failure to a {@link HallmarkClientError}. */
function transportError(err: unknown, timeoutMs: number): HallmarkClientError {
  if (err instanceof HallmarkClientError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const causeCode = (e?.cause as { code?: unknown } | undefined)?.code;
  const anyCode = typeof causeCode === 'string' && code === '' ? causeCode : code;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new HallmarkClientError('ERR_CLIENT_TIMEOUT', `no answer within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  if (TLS_ERROR.test(anyCode)) {
    return new HallmarkClientError('ERR_CLIENT_TLS', `TLS verification failed (${anyCode})`, {
      cause: err,
    });
  }
  return new HallmarkClientError(
    'ERR_CLIENT_UNREACHABLE',
    `cannot reach the server${anyCode ? ` (${anyCode})` : ''}`,
    { cause: err },
  );
}

/** Turns an error status into the server's code, message and details. */
function statusError(status: number, contentType: string, body: string): HallmarkClientError {
  if (/\bjson\b/i.test(contentType)) {
    try {
      const parsed = JSON.parse(body) as {
        error?: { code?: unknown; message?: unknown; details?: unknown };
      };
      const error = parsed.error;
      if (error && typeof error.code === 'string') {
        return new HallmarkClientError(
          error.code,
          typeof error.message === 'string' ? error.message : error.code,
          { status, details: error.details },
        );
      }
    } catch {
      // Not a Hallmark error body: reported by status below.
    }
  }
  return new HallmarkClientError('ERR_CLIENT_HTTP_STATUS', `server answered HTTP ${status}`, {
    status,
  });
}

/**
 * Reads a response body as UTF-8, refusing more than `limit` bytes. When `signal` cut the
 * body short, the rejection is its reason (the time limit), not the reset it caused.
 */
function readBody(response: IncomingMessage, limit: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => reject(signal.aborted ? (signal.reason as unknown) : err);
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        reject(new HallmarkClientError('ERR_CLIENT_BAD_RESPONSE', 'response too large'));
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', fail);
    // A connection cut mid-body ends the message without 'end'.
    response.once('close', () => {
      if (!response.complete) fail(new Error('connection closed before the response ended'));
    });
  });
}

/**
 * Sends requests over one keep-alive connection pool that trusts only the given CAs. Every
 * call is bounded by an abort signal: connect, headers and body together within the limit.
 * node:https rather than undici: a sidecar and `hallmark exec` make a handful of calls, and
 * undici's module graph and WebAssembly HTTP parser cost them ~150 ms of start-up and a
 * resident-memory spike to ~100 MB when V8 recompiles the parser.
 */
export class HttpTransport {
  readonly #agent: Agent;
  readonly #url: URL;
  readonly #basePath: string;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: TransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:') {
      throw new HallmarkClientError('ERR_CLIENT_UNREACHABLE', 'the server URL must be https://');
    }
    this.#url = url;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#agent = new Agent({
      keepAlive: true,
      // Idle connections close after this long (the server keeps them 72 s).
      timeout: 30_000,
      ca: typeof options.ca === 'string' ? options.ca : [...options.ca],
      cert: options.cert,
      key: options.key,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
  }

  /** Sends `request`; resolves with a 2xx answer, rejects with {@link HallmarkClientError}. */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const call = this.#send(request);
    this.#inFlight.add(call);
    try {
      return await call;
    } finally {
      this.#inFlight.delete(call);
    }
  }

  async #send(request: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    } else if (request.text !== undefined) {
      body = request.text;
      headers['content-type'] = request.contentType ?? 'text/plain; charset=utf-8';
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    let status: number;
    let contentType: string;
    let text: string;
    try {
      const signal = AbortSignal.timeout(this.#timeoutMs);
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        const outgoing = httpsRequest({
          agent: this.#agent,
          // URL keeps IPv6 literals in brackets; the socket wants the bare address.
          host: this.#url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.#url.port === '' ? 443 : Number(this.#url.port),
          // Sent verbatim: node:https does not normalise `path`, so the server sees what was asked.
          path: `${this.#basePath}${request.path}`,
          method: request.method,
          headers,
          signal,
        });
        outgoing.once('response', resolve);
        outgoing.on('error', reject);
        outgoing.end(body);
      });
      status = response.statusCode ?? 0;
      contentType = response.headers['content-type'] ?? '';
      text = await readBody(response, this.#maxResponseBytes, signal);
    } catch (err) {
      throw transportError(err, this.#timeoutMs);
    }
    if (status < 200 || status > 299) throw statusError(status, contentType, text);
    return { status, contentType, body: text };
  }

  /** Waits for calls in flight, then closes the connections. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    this.#agent.destroy();
  }
}
