// RFC 5424 syslog messages for sink items, and their framing (RFC 5425/6587 octet counting), pure.
import { severityOf } from '../ocsf/index.js';
import type { SinkItem } from './sink-item.js';

/**
 * The structured-data ID of Hallmark's parameters. RFC 5424 §7.2.2: a private SD-ID is
 * `name@<private enterprise number>`; 32473 is the PEN RFC 5612 reserves for documentation
 * and examples. An operator with their own PEN can filter on the name part.
 */
export const SD_ID = 'hallmark@32473';

/** RFC 5424 §6.2.1 facility 13: "log audit". */
const FACILITY_LOG_AUDIT = 13;

/** OCSF severity_id → RFC 5424 §6.2.1 severity (6 informational … 2 critical). */
const SYSLOG_SEVERITY: Readonly<Record<number, number>> = { 1: 6, 2: 5, 3: 4, 4: 3, 5: 2 };

/** RFC 5426 §3.2: every receiver SHOULD accept datagrams of 2048 octets; we send no more. */
export const MAX_DATAGRAM_OCTETS = 2048;

/** Fixed header fields of this process. */
export interface SyslogOrigin {
  /** RFC 5424 §6.2.4 HOSTNAME (FQDN or hostname of the sender). */
  readonly hostname: string;
  /** RFC 5424 §6.2.6 PROCID. */
  readonly procId: string;
  readonly appVersion: string;
}

// RFC 5424 §6: header fields are PRINTUSASCII (%d33-126) with a length bound, or "-".
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

// RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' MUST be escaped with '\'.
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

function element(id: string, params: Readonly<Record<string, string | number>>): string {
  const body = Object.entries(params)
    .map(([name, value]) => ` ${name}="${paramValue(String(value))}"`)
    .join('');
  return `[${id}${body}]`;
}

function params(item: SinkItem): Record<string, string | number> {
  if (item.kind === 'checkpoint') {
    return { seq: item.seq, hash: item.hash, keyId: item.keyId };
  }
  const r = item.record;
  return {
    seq: r.seq,
    action: r.action,
    outcome: r.outcome,
    actor: r.actor,
    ...(r.reason === '' ? {} : { reason: r.reason }),
    ...(r.requestId === '' ? {} : { requestId: r.requestId }),
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, with the
 * item's fields as structured data, the sender in an `origin` element (§7.2), and the JSON
 * payload as MSG, UTF-8 after a BOM (§6.4). `withMsg: false` leaves MSG out.
 */
export function syslogMessage(
  item: SinkItem,
  payload: Record<string, unknown> | undefined,
  origin: SyslogOrigin,
): Buffer {
  const severity = item.kind === 'record' ? (SYSLOG_SEVERITY[severityOf(item.record)] ?? 6) : 5;
  const pri = FACILITY_LOG_AUDIT * 8 + severity; // §6.2.1
  const time = item.kind === 'record' ? item.record.time : item.time; // §6.2.3: RFC 3339, UTC
  const msgId = item.kind === 'record' ? item.record.action : 'checkpoint'; // §6.2.7: ≤ 32
  const header = [
    `<${pri}>1`, // §6.2.2 VERSION 1
    time,
    headerField(origin.hostname, 255),
    'hallmark', // §6.2.5 APP-NAME, ≤ 48
    headerField(origin.procId, 128),
    headerField(msgId, 32),
  ].join(' ');
  const sd =
    element(SD_ID, {
      ...params(item),
      ...(payload === undefined ? { msgOmitted: 'true' } : {}),
    }) + element('origin', { software: 'hallmark', swVersion: origin.appVersion });
  const head = Buffer.from(`${header} ${sd}`, 'utf8');
  if (payload === undefined) return head;
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  return Buffer.concat([head, Buffer.from(' '), bom, Buffer.from(JSON.stringify(payload))]);
}

/** RFC 5425 §4.3 / RFC 6587 §3.4.1: `MSG-LEN SP SYSLOG-MSG`, MSG-LEN in octets. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `), message]);
}

/**
 * A datagram within {@link MAX_DATAGRAM_OCTETS} (RFC 5426 §3.1: one message per datagram): a
 * message too long for it is sent with its structured data — every chain field — and without
 * its MSG, marked `msgOmitted="true"`.
 */
export function syslogDatagram(
  item: SinkItem,
  payload: Record<string, unknown>,
  origin: SyslogOrigin,
): Buffer {
  const full = syslogMessage(item, payload, origin);
  if (full.length <= MAX_DATAGRAM_OCTETS) return full;
  const bare = syslogMessage(item, undefined, origin);
  return bare.subarray(0, MAX_DATAGRAM_OCTETS);
}
