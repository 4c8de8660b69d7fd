import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

/** Sends a raw request line the router will refuse (undici would refuse to send it). */
async function rawRequest(stack: HallmarkStack, requestLine: string): Promise<string> {
  const url = new URL(stack.server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: url.hostname,
        port: Number(url.port),
        ca: stack.server.ca.bundle().certificatesPem.join(''),
        servername: 'localhost',
      },
      () => {
        socket.write(`${requestLine}\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      },
    );
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
  });
}

describe('requests the router refuses', () => {
  let stack: HallmarkStack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        HALLMARK_BROKER_USERNAME: 'platform',
        HALLMARK_BROKER_PASSWORD: 'a-long-broker-password',
      },
    });
  });
  afterAll(() => stack.close());

  it.each([
    'GET /v1/secrets/a%zzb HTTP/1.1',
    'GET /v1/secrets/%C0%AE%C0%AE/x HTTP/1.1',
    `GET /v2/service_instances/${'x'.repeat(101)} HTTP/1.1`,
  ])('answers %s with our error body and an audit row', async (line) => {
    const before = await stack.server.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE reason = 'ERR_REQUEST_INVALID'",
    );
    const response = await rawRequest(stack, line);
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(response).toContain('"code":"ERR_REQUEST_INVALID"');
    const after = await stack.server.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE reason = 'ERR_REQUEST_INVALID'",
    );
    expect(Number(after.rows[0]?.n)).toBe(Number(before.rows[0]?.n) + 1);
  });
});
