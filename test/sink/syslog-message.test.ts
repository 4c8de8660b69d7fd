import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, nextRecord, type AuditRecord } from '../../src/audit/index.js';
import type { SinkItem } from '../../src/sink/sink-item.js';
import {
  MAX_DATAGRAM_OCTETS,
  octetCountingFrame,
  syslogDatagram,
  syslogMessage,
} from '../../src/sink/syslog-message.js';

const ORIGIN = { hostname: 'hallmark-0.example', procId: '4242', appVersion: '0.1.0' };

function item(overrides: Partial<Parameters<typeof nextRecord>[1]> = {}): SinkItem {
  const record: AuditRecord = nextRecord(
    { seq: 6, hash: GENESIS_HASH },
    {
      actor: 'key:admin',
      action: 'secret.read',
      target: 'app/db@v1',
      outcome: 'success',
      requestId: 'r-1',
      ...overrides,
    },
    '2026-03-01T10:15:30.123Z',
  );
  return { kind: 'record', seq: record.seq, record };
}

describe('RFC 5424 messages', () => {
  it('writes PRI, VERSION 1, the header fields, structured data and a BOM before the UTF-8 MSG', () => {
    const message = syslogMessage(item(), { hello: 'wörld' }, ORIGIN);
    const text = message.toString('utf8');
    // facility 13 (log audit) × 8 + severity 6 (informational) = 110
    expect(text).toMatch(
      /^<110>1 2026-03-01T10:15:30\.123Z hallmark-0\.example hallmark 4242 secret\.read \[hallmark@32473 seq="7" action="secret\.read" outcome="success" actor="key:admin" requestId="r-1" prevHash="0{64}" hash="[0-9a-f]{64}"\]\[origin software="hallmark" swVersion="0\.1\.0"\] /,
    );
    const bomAt = message.indexOf(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(bomAt).toBeGreaterThan(0);
    expect(JSON.parse(message.subarray(bomAt + 3).toString('utf8'))).toEqual({ hello: 'wörld' });
  });

  it('escapes ", \\ and ] in parameter values (§6.3.3) and maps refusals to warning severities', () => {
    const text = syslogMessage(
      item({ actor: 'key:a"b\\c]d', outcome: 'denied', reason: 'ERR_POLICY_DENIED' }),
      {},
      ORIGIN,
    ).toString();
    expect(text).toContain('actor="key:a\\"b\\\\c\\]d"');
    expect(text).toContain('reason="ERR_POLICY_DENIED"');
    expect(text.startsWith('<109>1 ')).toBe(true); // severity 5 (notice) for a Low refusal
  });

  it('keeps header fields printable ASCII and uses the NILVALUE for an empty one', () => {
    const text = syslogMessage(item(), {}, { ...ORIGIN, hostname: 'é' }).toString();
    expect(text.split(' ')[2]).toBe('-');
  });

  it('frames a message with its length in octets (RFC 5425 §4.3, RFC 6587 §3.4.1)', () => {
    const message = syslogMessage(item(), { v: 'ü' }, ORIGIN);
    const frame = octetCountingFrame(message);
    const space = frame.indexOf(0x20);
    expect(Number(frame.subarray(0, space).toString())).toBe(message.length);
    expect(frame.subarray(space + 1)).toEqual(message);
  });

  it('bounds a datagram: a long payload is left out, the chain fields stay (RFC 5426 §3.2)', () => {
    const small = syslogDatagram(item(), { a: 1 }, ORIGIN);
    expect(small.toString()).toContain('{"a":1}');
    const big = syslogDatagram(item(), { a: 'x'.repeat(5000) }, ORIGIN);
    expect(big.length).toBeLessThanOrEqual(MAX_DATAGRAM_OCTETS);
    expect(big.toString()).toContain('msgOmitted="true"');
    expect(big.toString()).toContain('seq="7"');
  });

  it('sends a checkpoint as its own message type carrying its seq', () => {
    const text = syslogMessage(
      {
        kind: 'checkpoint',
        seq: 9,
        hash: 'ab',
        time: '2026-03-01T10:00:00.000Z',
        keyId: 'k1',
        signature: 's',
      },
      { checkpoint: true },
      ORIGIN,
    ).toString();
    expect(text).toMatch(
      /^<\d+>1 2026-03-01T10:00:00\.000Z \S+ hallmark 4242 checkpoint \[hallmark@32473 seq="9" hash="ab" keyId="k1"\]/,
    );
  });
});
