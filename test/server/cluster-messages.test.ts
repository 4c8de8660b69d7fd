// The primary and its workers accept only well-formed messages of their own on the shared channel.
import { describe, expect, it } from 'vitest';
import { parsePrimaryMessage, parseWorkerMessage } from '../../src/server/cluster-messages.js';

describe('cluster messages', () => {
  it('reads each message a worker sends', () => {
    for (const message of [
      { kind: 'hallmark:hello' },
      { kind: 'hallmark:listening', port: 8443, url: 'https://127.0.0.1:8443' },
      { kind: 'hallmark:failed', reason: 'listen EADDRINUSE' },
      { kind: 'hallmark:bundle', sequence: 2, pem: '-----BEGIN CERTIFICATE-----' },
      { kind: 'hallmark:metrics', id: 7 },
    ])
      expect(parseWorkerMessage(message)).toEqual(message);
  });

  it('reads each message the primary sends', () => {
    const host = {
      kind: 'hallmark:host',
      slot: 2,
      databaseUrl: 'postgres://127.0.0.1/hallmark',
      embedded: true,
    };
    expect(parsePrimaryMessage(host)).toEqual(host);
    expect(parsePrimaryMessage({ kind: 'hallmark:stop' })).toEqual({ kind: 'hallmark:stop' });
    expect(parsePrimaryMessage({ kind: 'hallmark:metrics-text', id: 1, text: 'x 1' })).toEqual({
      kind: 'hallmark:metrics-text',
      id: 1,
      text: 'x 1',
      error: undefined,
    });
  });

  it('ignores prom-client’s messages, strangers and malformed ones', () => {
    for (const value of [
      { type: 'prom-client:getMetricsReq', requestId: 1 },
      'hallmark:hello',
      null,
      [],
      { kind: 'hallmark:listening', port: -1, url: 'x' },
      { kind: 'hallmark:bundle', sequence: 1.5, pem: 'x' },
      { kind: 'hallmark:metrics' },
      { kind: 'hallmark:host', slot: 1, databaseUrl: 'x', embedded: 'yes' },
    ]) {
      expect(parseWorkerMessage(value)).toBeUndefined();
      expect(parsePrimaryMessage(value)).toBeUndefined();
    }
  });
});
