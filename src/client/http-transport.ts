// HTTPS transport of the client: one keep-alive undici Agent, bounded calls, errors mapped to codes.
import { Agent } from 'undici';
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
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    /^UND_ERR_(HEADERS|BODY|CONNECT)_TIMEOUT$/.test(anyCode)
  ) {
    return new HallmarkClientError('ERR_CLIENT_TIMEOUT', `no answer within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  if (TLS_ERROR.test(anyCode)) {
    return new HallmarkClientError('ERR_CLIENT_TLS', `TLS verification failed (${anyCode})`, {
      cause: err,
    });
  }
  if (anyCode === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new HallmarkClientError('ERR_CLIENT_BAD_RESPONSE', 'response too large', {
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
 * Sends requests over one keep-alive connection pool that trusts only the given CAs. Every
 * call is bounded: connect, headers and body each by the time limit, and the whole call by an
 * abort signal with the same limit.
 */
export class HttpTransport {
  readonly #agent: Agent;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #timeoutMs: number;

  constructor(options: TransportOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:') {
      throw new HallmarkClientError('ERR_CLIENT_UNREACHABLE', 'the server URL must be https://');
    }
    this.#origin = url.origin;
    this.#basePath = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#agent = new Agent({
      connect: {
        ca: typeof options.ca === 'string' ? options.ca : [...options.ca],
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      connectTimeout: this.#timeoutMs,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      keepAliveTimeout: 30_000,
      maxResponseSize: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /** Sends `request`; resolves with a 2xx answer, rejects with {@link HallmarkClientError}. */
  async send(request: TransportRequest): Promise<TransportResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] = 'application/json';
    } else if (request.text !== undefined) {
      body = request.text;
      headers['content-type'] = request.contentType ?? 'text/plain; charset=utf-8';
    }
    let status: number;
    let contentType: string;
    let text: string;
    try {
      const response = await this.#agent.request({
        origin: this.#origin,
        // Sent verbatim: undici does not normalise `path`, so the server sees what was asked.
        path: `${this.#basePath}${request.path}`,
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.statusCode;
      const type = response.headers['content-type'];
      contentType = Array.isArray(type) ? (type[0] ?? '') : (type ?? '');
      text = await response.body.text();
    } catch (err) {
      throw transportError(err, this.#timeoutMs);
    }
    if (status < 200 || status > 299) throw statusError(status, contentType, text);
    return { status, contentType, body: text };
  }

  /** Closes idle connections; waits for calls in flight. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}
