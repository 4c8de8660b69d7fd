// A bounded HTTPS client for one Hallmark server on 127.0.0.1, used where the server may die or stall.
import { Agent, request, type Dispatcher } from 'undici';

/** Headers and body wait at most this long: a stalled server shows as a failed call, not a hang. */
export const CALL_TIMEOUT_MS = 15_000;

/** A parsed JSON response body (non-JSON text lands in `text`). */
export interface ReplyBody {
  error?: { code: string; message: string; details?: unknown };
  text?: string;
  [key: string]: unknown;
}

/** One answered call: status, body and how long it took. */
export interface Reply {
  status: number;
  body: ReplyBody;
  /** Wall time from sending to the end of the body. */
  ms: number;
}

/** What to send. `yaml` goes out as `application/yaml`; `body` as JSON. */
export interface CallInit {
  body?: unknown;
  yaml?: string;
  token?: string;
  /** Further headers (e.g. the OSB ones and basic auth for `/v2`). */
  headers?: Record<string, string>;
  /** Another agent (e.g. one presenting a client SVID). */
  agent?: Agent;
}

/** PEM client credential for mTLS. */
export interface ClientCredential {
  cert: string;
  key: string;
}

/**
 * Talks to one server URL, trusting `caPem`. Every agent it made is closed by {@link close}.
 * Transport failures (refused, reset, timed out) reject; HTTP errors resolve with their status.
 */
export class HallmarkClient {
  readonly #agents: Agent[] = [];
  readonly #shared: Agent;

  constructor(
    readonly url: string,
    private readonly caPem: string,
  ) {
    this.#shared = this.agent();
  }

  /** An agent trusting the bundle, optionally presenting a client certificate. */
  agent(credential?: ClientCredential): Agent {
    const agent = new Agent({
      connect: { ca: this.caPem, ...credential, timeout: CALL_TIMEOUT_MS },
      headersTimeout: CALL_TIMEOUT_MS,
      bodyTimeout: CALL_TIMEOUT_MS,
    });
    this.#agents.push(agent);
    return agent;
  }

  async call(method: Dispatcher.HttpMethod, path: string, init: CallInit = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (init.yaml !== undefined) {
      headers['content-type'] = 'application/yaml';
      payload = init.yaml;
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(init.body);
    }
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    Object.assign(headers, init.headers);
    const started = performance.now();
    const response = await request(`${this.url}${path}`, {
      method,
      headers,
      body: payload,
      dispatcher: init.agent ?? this.#shared,
      headersTimeout: CALL_TIMEOUT_MS,
      bodyTimeout: CALL_TIMEOUT_MS,
    });
    const text = await response.body.text();
    let body: ReplyBody;
    try {
      body = JSON.parse(text) as ReplyBody;
    } catch {
      body = { text };
    }
    return { status: response.statusCode, body, ms: performance.now() - started };
  }

  async close(): Promise<void> {
    await Promise.all(this.#agents.map((agent) => agent.close().catch(() => undefined)));
  }
}

/** The transport error code of a rejected call (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...). */
export function transportCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.code === 'string') return e.code;
  return 'TRANSPORT_ERROR';
}
