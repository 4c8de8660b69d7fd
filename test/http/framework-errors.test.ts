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

describe('unroutable requests from a stranger', () => {
  it('pay into the address bucket: beyond it 429, and no row each', async () => {
    const stack = await startStack({
      realLimits: true,
      env: { HALLMARK_PREAUTH_AUDIT_INTERVAL: '1h' },
    });
    try {
      const started = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 40; i += 1) {
        const response = await rawRequest(stack, 'GET /v1/secrets/a%zzb HTTP/1.1');
        statuses.push(Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]));
        if (statuses.at(-1) === 429) expect(response).toMatch(/\r\nretry-after: [1-9]/i);
      }
      const refused = statuses.filter((s) => s === 400).length;
      // 20 at once, 2 more a second (the defaults); the rest throttled before any row.
      expect(refused).toBeLessThanOrEqual(20 + Math.ceil((2 * (Date.now() - started)) / 1000));
      expect(statuses.filter((s) => s === 429).length).toBe(40 - refused);
      const rows = await stack.server.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM audit_log WHERE reason = 'ERR_REQUEST_INVALID'",
      );
      expect(Number(rows.rows[0]?.n)).toBe(refused);
    } finally {
      await stack.close();
    }
  }, 60_000);
});
