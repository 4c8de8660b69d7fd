// The audit sinks' configuration: receivers, their TLS material, the payload format, the lag alarm.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** A syslog receiver (`HALLMARK_AUDIT_SYSLOG*`); PEM contents read at start. */
export interface SyslogSinkConfig {
  readonly protocol: 'tls' | 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** A CloudEvents webhook receiver (`HALLMARK_AUDIT_WEBHOOK*`). */
export interface WebhookSinkConfig {
  readonly url: string;
  readonly ca?: string;
  /** Absolute path; read before every batch so a rotated token is picked up. */
  readonly tokenFile?: string;
}

/** Everything about streaming the audit chain out. */
export interface AuditSinksConfig {
  readonly format: 'ocsf' | 'hallmark';
  readonly syslog: SyslogSinkConfig | undefined;
  readonly webhook: WebhookSinkConfig | undefined;
  /** An undelivered row older than this raises an `audit.sink.lag` row. */
  readonly lagAlarmSeconds: number;
}

/** The variables read here, for the unknown-variable check. */
export const AUDIT_SINK_VARIABLES = [
  'HALLMARK_AUDIT_FORMAT',
  'HALLMARK_AUDIT_SYSLOG',
  'HALLMARK_AUDIT_SYSLOG_CA',
  'HALLMARK_AUDIT_SYSLOG_CERT',
  'HALLMARK_AUDIT_SYSLOG_KEY',
  'HALLMARK_AUDIT_WEBHOOK',
  'HALLMARK_AUDIT_WEBHOOK_CA',
  'HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE',
  'HALLMARK_AUDIT_SINK_LAG_ALARM',
] as const;

function readPem(reader: EnvReader, name: string, kind: 'certificate' | 'key'): string | undefined {
  const file = reader.optional(name);
  if (file === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    throw new ConfigError(name, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    if (kind === 'key') createPrivateKey(pem);
    else new X509Certificate(pem);
  } catch {
    throw new ConfigError(name, `${file} holds no PEM ${kind}`);
  }
  return pem;
}

function readSyslog(reader: EnvReader): SyslogSinkConfig | undefined {
  const text = reader.optional('HALLMARK_AUDIT_SYSLOG');
  const tlsNames = [
    'HALLMARK_AUDIT_SYSLOG_CA',
    'HALLMARK_AUDIT_SYSLOG_CERT',
    'HALLMARK_AUDIT_SYSLOG_KEY',
  ];
  if (text === undefined) {
    const stray = tlsNames.find((name) => reader.optional(name) !== undefined);
    if (stray) throw new ConfigError(stray, 'set only together with HALLMARK_AUDIT_SYSLOG');
    return undefined;
  }
  const match = /^(tls|tcp|udp):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(
      'HALLMARK_AUDIT_SYSLOG',
      `expected tls://host:port, tcp://host:port or udp://host:port, got "${text}"`,
    );
  }
  const protocol = match[1] as SyslogSinkConfig['protocol'];
  if (protocol !== 'tls') {
    const stray = tlsNames.find((name) => reader.optional(name) !== undefined);
    if (stray) throw new ConfigError(stray, `applies only to tls:// receivers, not ${protocol}://`);
  }
  const ca = readPem(reader, 'HALLMARK_AUDIT_SYSLOG_CA', 'certificate');
  const cert = readPem(reader, 'HALLMARK_AUDIT_SYSLOG_CERT', 'certificate');
  const key = readPem(reader, 'HALLMARK_AUDIT_SYSLOG_KEY', 'key');
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined ? 'HALLMARK_AUDIT_SYSLOG_CERT' : 'HALLMARK_AUDIT_SYSLOG_KEY',
      'HALLMARK_AUDIT_SYSLOG_CERT and HALLMARK_AUDIT_SYSLOG_KEY go together',
    );
  }
  return {
    protocol,
    host: (match[2] as string).replace(/^\[|\]$/g, ''),
    port,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}

function readWebhook(reader: EnvReader): WebhookSinkConfig | undefined {
  const url = reader.optional('HALLMARK_AUDIT_WEBHOOK');
  const others = ['HALLMARK_AUDIT_WEBHOOK_CA', 'HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE'];
  if (url === undefined) {
    const stray = others.find((name) => reader.optional(name) !== undefined);
    if (stray) throw new ConfigError(stray, 'set only together with HALLMARK_AUDIT_WEBHOOK');
    return undefined;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') {
    throw new ConfigError('HALLMARK_AUDIT_WEBHOOK', `expected an https:// URL, got "${url}"`);
  }
  const tokenPath = reader.optional('HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE');
  let tokenFile: string | undefined;
  if (tokenPath !== undefined) {
    tokenFile = path.resolve(tokenPath);
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        'HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE',
        `cannot read ${tokenPath}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new ConfigError('HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE', `${tokenPath} holds no token`);
    }
  }
  const ca = readPem(reader, 'HALLMARK_AUDIT_WEBHOOK_CA', 'certificate');
  return { url: parsed.toString(), ...(ca ? { ca } : {}), ...(tokenFile ? { tokenFile } : {}) };
}

/** Reads and checks the sinks' variables (files included). Throws {@link ConfigError}. */
export function readAuditSinks(reader: EnvReader): AuditSinksConfig {
  return {
    format: reader.oneOf('HALLMARK_AUDIT_FORMAT', 'ocsf', ['ocsf', 'hallmark'] as const),
    syslog: readSyslog(reader),
    webhook: readWebhook(reader),
    lagAlarmSeconds: reader.duration('HALLMARK_AUDIT_SINK_LAG_ALARM', '5m', 7 * 86_400),
  };
}
