import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_WORKERS, loadServerConfig, parseDuration } from '../../src/config/index.js';

function load(env: Record<string, string>, flags: Record<string, string> = {}) {
  return loadServerConfig({ env, flags });
}

function variableOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_CONFIG_INVALID');
    return (err as { variable?: string }).variable;
  }
  return undefined;
}

describe('server configuration', () => {
  it('has the documented defaults', () => {
    const config = load({});
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(config.dataDir).toBe(path.resolve('.hallmark'));
    expect(config.trustDomain).toBe('hallmark.local');
    expect(config.svidTtlSeconds).toBe(3600);
    expect(config.tokenTtlSeconds).toBe(480);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.broker).toBeUndefined();
    expect(config.masterKey).toEqual({
      kind: 'generated',
      path: path.resolve('.hallmark', 'master.key'),
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.secretCacheBytes).toBe(32 * 1024 * 1024);
  });

  it('reads HALLMARK_TLS_CIPHERS as OpenSSL TLS 1.2 suite names, refusing aliases and TLS 1.3 names', () => {
    expect(load({}).tlsCiphers).toBeUndefined();
    expect(
      load({ HALLMARK_TLS_CIPHERS: 'ecdhe-ecdsa-aes128-gcm-sha256:ECDHE-ECDSA-AES128-SHA' })
        .tlsCiphers,
    ).toEqual(['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA']);
    for (const bad of [
      'HIGH:!aNULL',
      'TLS_AES_128_GCM_SHA256',
      'ECDHE-ECDSA-AES128-GCM-SHA256:',
      'NOPE',
    ])
      expect(
        variableOf(() => load({ HALLMARK_TLS_CIPHERS: bad })),
        bad,
      ).toBe('HALLMARK_TLS_CIPHERS');
  });

  it('sizes the secret cache from HALLMARK_SECRET_CACHE_BYTES, 0 turning it off', () => {
    expect(load({ HALLMARK_SECRET_CACHE_BYTES: '0' }).secretCacheBytes).toBe(0);
    expect(load({ HALLMARK_SECRET_CACHE_BYTES: '1048576' }).secretCacheBytes).toBe(1_048_576);
    for (const bad of ['-1', '1.5', 'lots', String(5 * 1024 ** 3)])
      expect(variableOf(() => load({ HALLMARK_SECRET_CACHE_BYTES: bad }))).toBe(
        'HALLMARK_SECRET_CACHE_BYTES',
      );
  });

  it('runs one process unless HALLMARK_WORKERS says otherwise; auto is the available cores', () => {
    expect(load({}).workers).toBe(1);
    expect(load({ HALLMARK_WORKERS: '3' }).workers).toBe(3);
    expect(load({}, { HALLMARK_WORKERS: '2' }).workers).toBe(2);
    expect(loadServerConfig({ env: { HALLMARK_WORKERS: 'auto' }, cores: 6 }).workers).toBe(6);
    expect(loadServerConfig({ env: { HALLMARK_WORKERS: 'auto' }, cores: 500 }).workers).toBe(
      MAX_WORKERS,
    );
    expect(load({ HALLMARK_WORKERS: 'auto' }).workers).toBe(
      Math.min(MAX_WORKERS, os.availableParallelism()),
    );
    for (const bad of ['0', '-1', '1.5', 'AUTO', 'two', String(MAX_WORKERS + 1)])
      expect(variableOf(() => load({ HALLMARK_WORKERS: bad }))).toBe('HALLMARK_WORKERS');
  });

  it('bounds strangers by default: 2 failures a second per address, burst 20, 32 TokenReviews', () => {
    const config = load({});
    expect(config.preauth).toEqual({
      ratePerSecond: 2,
      burst: 20,
      auditIntervalSeconds: 10,
      auditRowsPerInterval: 500,
    });
    expect(config.tokenReviewConcurrency).toBe(32);
    expect(Object.isFrozen(config.preauth)).toBe(true);
    const tuned = load({
      HALLMARK_PREAUTH_RATE: '50',
      HALLMARK_PREAUTH_BURST: '200',
      HALLMARK_PREAUTH_AUDIT_INTERVAL: '1m',
      HALLMARK_PREAUTH_AUDIT_ROWS: '2000',
      HALLMARK_TOKENREVIEW_CONCURRENCY: '128',
    });
    expect(tuned.preauth).toEqual({
      ratePerSecond: 50,
      burst: 200,
      auditIntervalSeconds: 60,
      auditRowsPerInterval: 2000,
    });
    expect(tuned.tokenReviewConcurrency).toBe(128);
  });

  it.each([
    ['HALLMARK_PREAUTH_RATE', ['0', '-1', '0.5', 'fast']],
    ['HALLMARK_PREAUTH_BURST', ['0', '1e3', 'big']],
    ['HALLMARK_PREAUTH_AUDIT_INTERVAL', ['10', '0s', '2h']],
    ['HALLMARK_PREAUTH_AUDIT_ROWS', ['0', '-5', 'all']],
    ['HALLMARK_TOKENREVIEW_CONCURRENCY', ['0', '10001', 'many']],
    ['HALLMARK_LOG_FORMAT', ['xml', 'JSON']],
  ])('rejects a bad %s naming it', (variable, values) => {
    for (const value of values)
      expect(variableOf(() => load({ [variable]: value }))).toBe(variable);
  });

  it('reads HALLMARK_LOG_FORMAT: auto by default, json or pretty when said', () => {
    expect(load({}).logFormat).toBe('auto');
    expect(load({ HALLMARK_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(load({ HALLMARK_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });

  it('lets flags override the environment', () => {
    const config = load({ HALLMARK_LISTEN: '127.0.0.1:1' }, { HALLMARK_LISTEN: '0.0.0.0:9443' });
    expect(config.listen).toEqual({ host: '0.0.0.0', port: 9443 });
  });

  it.each([
    [{ HALLMARK_LISTEN: 'nonsense' }, 'HALLMARK_LISTEN'],
    [{ HALLMARK_LISTEN: '127.0.0.1:99999' }, 'HALLMARK_LISTEN'],
    [{ HALLMARK_MASTER_KEY: 'not-base64-32-bytes' }, 'HALLMARK_MASTER_KEY'],
    [{ HALLMARK_MASTER_KEY: Buffer.alloc(16).toString('base64') }, 'HALLMARK_MASTER_KEY'],
    [{ HALLMARK_TRUST_DOMAIN: 'Example.org' }, 'HALLMARK_TRUST_DOMAIN'],
    [{ HALLMARK_SVID_TTL: '25h' }, 'HALLMARK_SVID_TTL'],
    [{ HALLMARK_TOKEN_TTL: '8' }, 'HALLMARK_TOKEN_TTL'],
    [{ HALLMARK_BROKER_USERNAME: 'osb' }, 'HALLMARK_BROKER_PASSWORD'],
    [{ HALLMARK_CA_KEY_TYPE: 'dsa' }, 'HALLMARK_CA_KEY_TYPE'],
    [{ HALLMARK_LISTN: '127.0.0.1:1' }, 'HALLMARK_LISTN'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
  ])('rejects %o naming %s', (env, variable) => {
    expect(variableOf(() => load(env))).toBe(variable);
  });

  it('reads the PKCS#11 token settings together, the PIN only from a file', () => {
    expect(load({}).pkcs11).toBeUndefined();
    const config = load({
      HALLMARK_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      HALLMARK_PKCS11_TOKEN: 'hallmark ca',
      HALLMARK_PKCS11_PIN_FILE: 'secrets/pin',
    });
    expect(config.pkcs11).toEqual({
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'hallmark ca',
      pinFile: path.resolve('secrets/pin'),
    });
    expect(Object.isFrozen(config.pkcs11)).toBe(true);
    const flags = load(
      {},
      {
        HALLMARK_PKCS11_MODULE: '/opt/hsm/lib.so',
        HALLMARK_PKCS11_TOKEN: 't',
        HALLMARK_PKCS11_PIN_FILE: '/run/pin',
      },
    );
    expect(flags.pkcs11?.modulePath).toBe('/opt/hsm/lib.so');
  });

  it.each([
    [{ HALLMARK_PKCS11_TOKEN: 't' }, 'HALLMARK_PKCS11_MODULE'],
    [{ HALLMARK_PKCS11_PIN_FILE: '/run/pin' }, 'HALLMARK_PKCS11_MODULE'],
    [{ HALLMARK_PKCS11_MODULE: '/m.so', HALLMARK_PKCS11_PIN_FILE: '/p' }, 'HALLMARK_PKCS11_TOKEN'],
    [{ HALLMARK_PKCS11_MODULE: '/m.so', HALLMARK_PKCS11_TOKEN: 't' }, 'HALLMARK_PKCS11_PIN_FILE'],
    [
      {
        HALLMARK_PKCS11_MODULE: 'lib.so',
        HALLMARK_PKCS11_TOKEN: 't',
        HALLMARK_PKCS11_PIN_FILE: '/p',
      },
      'HALLMARK_PKCS11_MODULE',
    ],
    [
      {
        HALLMARK_PKCS11_MODULE: '/m.so',
        HALLMARK_PKCS11_TOKEN: 'a label longer than thirty-two bytes',
        HALLMARK_PKCS11_PIN_FILE: '/p',
      },
      'HALLMARK_PKCS11_TOKEN',
    ],
    [
      {
        HALLMARK_PKCS11_MODULE: '/m.so',
        HALLMARK_PKCS11_TOKEN: ' t',
        HALLMARK_PKCS11_PIN_FILE: '/p',
      },
      'HALLMARK_PKCS11_TOKEN',
    ],
  ])('rejects PKCS#11 settings %o naming %s', (env, variable) => {
    expect(variableOf(() => load(env))).toBe(variable);
  });

  it('refuses a PIN in the environment without repeating it', () => {
    let message = '';
    expect(
      variableOf(() => {
        try {
          load({ HALLMARK_PKCS11_PIN: '123456-secret' });
        } catch (err) {
          message = (err as Error).message;
          throw err;
        }
      }),
    ).toBe('HALLMARK_PKCS11_PIN');
    expect(message).toMatch(/HALLMARK_PKCS11_PIN_FILE/);
    expect(message).not.toContain('123456-secret');
  });

  it('accepts a valid inline master key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = load({ HALLMARK_MASTER_KEY: key });
    expect(config.masterKey.kind).toBe('inline');
  });
});

describe('durations', () => {
  it.each([
    ['30s', 30],
    ['8m', 480],
    ['1h', 3600],
    ['30d', 2_592_000],
  ])('%s = %i seconds', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['', '8', '1.5h', '-1h', '0s', '1w', 'h'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('OIDC issuer, JWT-SVID key type and the bundle endpoint', () => {
  it('are off, ec-p256 and without a listener or Web PKI certificate by default', () => {
    const config = load({});
    expect(config.oidcIssuer).toBeUndefined();
    expect(config.jwtSvidKeyType).toBe('ec-p256');
    expect(config.federation).toEqual({
      listen: undefined,
      webTls: undefined,
      webCaPath: undefined,
    });
  });

  it('reads an https issuer (a path allowed), the key type and the federation settings', () => {
    const config = load({
      HALLMARK_OIDC_ISSUER: 'https://oidc.example.com/prod',
      HALLMARK_JWT_SVID_KEY_TYPE: 'rsa-2048',
      HALLMARK_FEDERATION_LISTEN: '0.0.0.0:8444',
      HALLMARK_FEDERATION_TLS_CERT: 'tls/cert.pem',
      HALLMARK_FEDERATION_TLS_KEY: 'tls/key.pem',
      HALLMARK_FEDERATION_WEB_CA: 'tls/roots.pem',
    });
    expect(config.oidcIssuer).toBe('https://oidc.example.com/prod');
    expect(config.jwtSvidKeyType).toBe('rsa-2048');
    expect(config.federation).toEqual({
      listen: { host: '0.0.0.0', port: 8444 },
      webTls: { certPath: path.resolve('tls/cert.pem'), keyPath: path.resolve('tls/key.pem') },
      webCaPath: path.resolve('tls/roots.pem'),
    });
    expect(Object.isFrozen(config.federation)).toBe(true);
  });

  it.each([
    [{ HALLMARK_OIDC_ISSUER: 'http://oidc.example.com' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_OIDC_ISSUER: 'https://oidc.example.com/' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_OIDC_ISSUER: 'https://user@oidc.example.com' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_OIDC_ISSUER: 'https://oidc.example.com?x=1' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_OIDC_ISSUER: 'https://oidc.example.com#frag' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_OIDC_ISSUER: 'oidc.example.com' }, 'HALLMARK_OIDC_ISSUER'],
    [{ HALLMARK_JWT_SVID_KEY_TYPE: 'rsa-4096' }, 'HALLMARK_JWT_SVID_KEY_TYPE'],
    [{ HALLMARK_FEDERATION_LISTEN: 'everywhere' }, 'HALLMARK_FEDERATION_LISTEN'],
    [{ HALLMARK_FEDERATION_TLS_CERT: 'c.pem' }, 'HALLMARK_FEDERATION_TLS_KEY'],
    [{ HALLMARK_FEDERATION_TLS_KEY: 'k.pem' }, 'HALLMARK_FEDERATION_TLS_CERT'],
    [
      { HALLMARK_FEDERATION_TLS_CERT: 'c.pem', HALLMARK_FEDERATION_TLS_KEY: 'k.pem' },
      'HALLMARK_FEDERATION_LISTEN',
    ],
  ])('refuses %o naming %s', (env, variable) => {
    expect(variableOf(() => load(env))).toBe(variable);
  });
});
