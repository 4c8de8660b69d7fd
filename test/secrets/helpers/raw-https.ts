// Sends one HTTP/1.1 request with a verbatim request target over TLS (no URL normalisation).
import tls from 'node:tls';

/** A parsed response. */
export interface RawResponse {
  status: number;
  body: string;
}

/**
 * Writes the request line exactly as given, so `/v1/secrets/../x` reaches the server as
 * written (fetch, undici and light-my-request all normalise dot segments first). Bounded: the
 * socket is destroyed after `timeoutMs`.
 */
export function rawHttpsRequest(options: {
  port: number;
  ca: string;
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: options.port, ca: options.ca });
    socket.setTimeout(options.timeoutMs ?? 10_000, () =>
      socket.destroy(new Error('raw request timed out')),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? NaN);
      resolve({ status, body: split === -1 ? '' : text.slice(split + 4) });
    });
    socket.once('secureConnect', () => {
      const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
      const headers: Record<string, string> = {
        host: `127.0.0.1:${options.port}`,
        connection: 'close',
        ...options.headers,
      };
      if (body) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(body.length);
      }
      const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`${options.method} ${options.target} HTTP/1.1\r\n${head.join('')}\r\n`);
      if (body) socket.write(body);
    });
  });
}

/**
 * A path as a request target: characters HTTP allows raw in a request line (RFC 9112 §3.2,
 * `pchar` plus `\`) stay as written; everything else is percent-encoded byte by byte, so the
 * server sees the test's exact bytes.
 */
export function requestTargetFor(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~!$&'()*+,;=:@/\\]/.test(c)
      ? c
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `/v1/secrets/${out}`;
}
