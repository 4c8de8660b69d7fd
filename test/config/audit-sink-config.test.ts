import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HALLMARK_VERSION, loadServerConfig } from '../../src/config/index.js';
import { runCli } from '../helpers/cli-process.js';
import { testPki } from '../sink/sink-fixtures.js';

function variableOf(env: Record<string, string>): string | undefined {
  try {
    loadServerConfig({ env });
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_CONFIG_INVALID');
    return (err as { variable?: string }).variable;
  }
  return undefined;
}

describe('audit sink configuration', async () => {
  const pki = await testPki();
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  let token: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-sinkconf-'));
    [ca, cert, key, token] = ['ca.pem', 'cert.pem', 'key.pem', 'token'].map((f) =>
      path.join(dir, f),
    ) as [string, string, string, string];
    await writeFile(ca, pki.ca);
    await writeFile(cert, pki.client.cert);
    await writeFile(key, pki.client.key);
    await writeFile(token, 's3cret-token\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('defaults to no sink and the OCSF format', () => {
    const { auditSinks } = loadServerConfig({ env: {} });
    expect(auditSinks).toEqual({
      format: 'ocsf',
      syslog: undefined,
      webhook: undefined,
      lagAlarmSeconds: 300,
    });
  });

  it('reads a TLS syslog receiver with its CA and client certificate, and a webhook', () => {
    const { auditSinks } = loadServerConfig({
      env: {
        HALLMARK_AUDIT_SYSLOG: 'tls://siem.example:6514',
        HALLMARK_AUDIT_SYSLOG_CA: ca,
        HALLMARK_AUDIT_SYSLOG_CERT: cert,
        HALLMARK_AUDIT_SYSLOG_KEY: key,
        HALLMARK_AUDIT_WEBHOOK: 'https://soc.example/hooks/audit',
        HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE: token,
        HALLMARK_AUDIT_FORMAT: 'hallmark',
      },
    });
    expect(auditSinks.syslog).toEqual({
      protocol: 'tls',
      host: 'siem.example',
      port: 6514,
      ca: pki.ca,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    expect(auditSinks.webhook).toEqual({
      url: 'https://soc.example/hooks/audit',
      tokenFile: token,
    });
    expect(auditSinks.format).toBe('hallmark');
    expect(
      loadServerConfig({ env: { HALLMARK_AUDIT_SYSLOG: 'udp://[::1]:514' } }).auditSinks.syslog,
    ).toEqual({
      protocol: 'udp',
      host: '::1',
      port: 514,
    });
  });

  it('names the variable of every bad setting', () => {
    expect(variableOf({ HALLMARK_AUDIT_SYSLOG: 'http://siem:514' })).toBe('HALLMARK_AUDIT_SYSLOG');
    expect(variableOf({ HALLMARK_AUDIT_SYSLOG: 'tls://siem' })).toBe('HALLMARK_AUDIT_SYSLOG');
    expect(variableOf({ HALLMARK_AUDIT_SYSLOG: 'tls://siem:0' })).toBe('HALLMARK_AUDIT_SYSLOG');
    expect(
      variableOf({
        HALLMARK_AUDIT_SYSLOG: 'tls://siem:6514',
        HALLMARK_AUDIT_SYSLOG_CA: path.join(dir, 'nope.pem'),
      }),
    ).toBe('HALLMARK_AUDIT_SYSLOG_CA');
    expect(
      variableOf({ HALLMARK_AUDIT_SYSLOG: 'tls://siem:6514', HALLMARK_AUDIT_SYSLOG_CA: token }),
    ).toBe('HALLMARK_AUDIT_SYSLOG_CA');
    expect(
      variableOf({ HALLMARK_AUDIT_SYSLOG: 'tls://siem:6514', HALLMARK_AUDIT_SYSLOG_CERT: cert }),
    ).toBe('HALLMARK_AUDIT_SYSLOG_KEY');
    expect(
      variableOf({ HALLMARK_AUDIT_SYSLOG: 'tcp://siem:514', HALLMARK_AUDIT_SYSLOG_CA: ca }),
    ).toBe('HALLMARK_AUDIT_SYSLOG_CA');
    expect(variableOf({ HALLMARK_AUDIT_SYSLOG_CA: ca })).toBe('HALLMARK_AUDIT_SYSLOG_CA');
    expect(variableOf({ HALLMARK_AUDIT_WEBHOOK: 'http://soc.example/x' })).toBe(
      'HALLMARK_AUDIT_WEBHOOK',
    );
    expect(
      variableOf({
        HALLMARK_AUDIT_WEBHOOK: 'https://soc.example/x',
        HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE: path.join(dir, 'missing'),
      }),
    ).toBe('HALLMARK_AUDIT_WEBHOOK_TOKEN_FILE');
    expect(
      variableOf({
        HALLMARK_AUDIT_WEBHOOK: 'https://soc.example/x',
        HALLMARK_AUDIT_WEBHOOK_CA: path.join(dir, 'x'),
      }),
    ).toBe('HALLMARK_AUDIT_WEBHOOK_CA');
    expect(variableOf({ HALLMARK_AUDIT_FORMAT: 'cef' })).toBe('HALLMARK_AUDIT_FORMAT');
    expect(variableOf({ HALLMARK_AUDIT_SINK_LAG_ALARM: '5' })).toBe(
      'HALLMARK_AUDIT_SINK_LAG_ALARM',
    );
  });

  it('stops `hallmark server` with exit 2 naming the variable', async () => {
    const result = await runCli(['server'], {
      HALLMARK_AUDIT_SYSLOG: 'https://siem.example:6514',
      HALLMARK_DATA_DIR: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HALLMARK_AUDIT_SYSLOG');
  });

  it("keeps HALLMARK_VERSION equal to package.json's version", async () => {
    const pkg = JSON.parse(
      await readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'),
    ) as {
      version: string;
    };
    expect(HALLMARK_VERSION).toBe(pkg.version);
  });
});
