// HallmarkServerApi over HTTPS with undici: server verified against ServerTrust, SVID as the
// client certificate for login. A small adapter until the shared src/client covers mTLS login.
import { Agent, request } from 'undici';
import { HallmarkError } from '../src/errors/index.js';
import { refusalFrom } from './server-api.js';
import type {
  ClientCertificate,
  HallmarkServerApi,
  IssuedAccessToken,
  IssuedSvid,
} from './server-api.js';
import type { ServerTrust } from './server-trust.js';

/** Options of {@link HttpsServerApi}. */
export interface HttpsServerApiOptions {
  /** `https://host:port[/prefix]`, no trailing slash. */
  readonly serverUrl: string;
  readonly trust: ServerTrust;
  /** Bound on connecting, and on waiting for headers and body (ms); default 10 s. */
  readonly timeoutMs?: number;
}

/** Responses are a few KB; anything larger is not Hallmark. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

interface Exchange {
  route: string;
  headers: Record<string, string>;
  body: string;
  client?: ClientCertificate;
  signal: AbortSignal | undefined;
}

function unreachable(route: string, err: unknown): HallmarkError {
  const e = err as { code?: unknown; name?: unknown };
  const why = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error';
  return new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', {
    detail: `${route}: ${why}`,
    cause: err,
  });
}

function badResponse(route: string, why: string): HallmarkError {
  return new HallmarkError('ERR_SIDECAR_BAD_RESPONSE', { detail: `${route}: ${why}` });
}

function field(body: Record<string, unknown>, name: string, route: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw badResponse(route, `missing ${name}`);
  return value;
}

function instant(body: Record<string, unknown>, route: string): number {
  const ms = Date.parse(field(body, 'expires_at', route));
  if (Number.isNaN(ms)) throw badResponse(route, 'expires_at is not a timestamp');
  return ms;
}

/** The sidecar's transport. One short-lived connection pool per call: calls are minutes apart. */
export class HttpsServerApi implements HallmarkServerApi {
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpsServerApiOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async issueSvid(
    projectedToken: string,
    csrPem: string,
    signal?: AbortSignal,
  ): Promise<IssuedSvid> {
    const route = 'POST /v1/svid/x509';
    const body = await this.exchange({
      route,
      headers: { authorization: `Bearer ${projectedToken}` },
      body: JSON.stringify({ csr: csrPem }),
      signal,
    });
    return {
      spiffeId: field(body, 'spiffe_id', route),
      chainPem: field(body, 'svid', route),
      expiresAt: instant(body, route),
      bundlePem: field(body, 'bundle', route),
    };
  }

  async login(client: ClientCertificate, signal?: AbortSignal): Promise<IssuedAccessToken> {
    const route = 'POST /v1/authn/login';
    const body = await this.exchange({ route, headers: {}, body: '{}', client, signal });
    return { token: field(body, 'token', route), expiresAt: instant(body, route) };
  }

  private async exchange(call: Exchange): Promise<Record<string, unknown>> {
    const ca = await this.options.trust.caPem();
    const agent = new Agent({
      connect: {
        ca,
        ...(call.client ? { cert: call.client.chainPem, key: call.client.keyPem } : {}),
        timeout: this.timeoutMs,
      },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const [method, path] = call.route.split(' ') as [string, string];
    let status: number;
    let text: string;
    try {
      const response = await request(`${this.options.serverUrl}${path}`, {
        method: method as 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...call.headers,
        },
        body: call.body,
        signal: call.signal,
      });
      status = response.statusCode;
      text = await readLimited(response.body, call.route);
    } catch (err) {
      if (err instanceof HallmarkError) throw err;
      throw unreachable(call.route, err);
    } finally {
      await agent.destroy().catch(() => undefined);
    }
    if (status < 200 || status > 299) throw refusalFrom(status, text, call.route);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw badResponse(call.route, 'body is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw badResponse(call.route, 'body is not a JSON object');
    }
    return parsed as Record<string, unknown>;
  }
}

async function readLimited(body: AsyncIterable<Buffer>, route: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) throw badResponse(route, 'response too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
