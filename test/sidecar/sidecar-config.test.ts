import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { loadSidecarConfig } from '../../sidecar/index.js';

const base = { HALLMARK_SERVER_URL: 'https://hallmark.hallmark.svc:8443' };

function failure(env: Record<string, string>, flags: Record<string, string> = {}): ConfigError {
  try {
    loadSidecarConfig({ env, flags });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('loadSidecarConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadSidecarConfig({ env: base });
    expect(config).toEqual({
      serverUrl: 'https://hallmark.hallmark.svc:8443',
      serverBundlePath: undefined,
      tokenPath: '/var/run/secrets/tokens/hallmark-token',
      outputDir: '/run/hallmark',
      healthListen: { host: '0.0.0.0', port: 8081 },
      keyType: 'ec-p256',
      onceTimeoutMs: 60_000,
      once: false,
      workloadApiSocket: '/run/hallmark/agent.sock',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.healthListen)).toBe(true);
  });

  it('reads every variable, with flags overriding the environment', () => {
    const config = loadSidecarConfig({
      env: {
        ...base,
        HALLMARK_SERVER_BUNDLE: '/etc/hallmark/ca.pem',
        HALLMARK_TOKEN_PATH: '/tokens/t',
        HALLMARK_OUTPUT_DIR: '/out',
        HALLMARK_HEALTH_LISTEN: '127.0.0.1:9000',
        HALLMARK_KEY_TYPE: 'ed25519',
        HALLMARK_ONCE_TIMEOUT: '2m',
      },
      flags: { HALLMARK_SERVER_URL: 'https://127.0.0.1:8443/' },
      once: true,
    });
    expect(config).toMatchObject({
      serverUrl: 'https://127.0.0.1:8443',
      serverBundlePath: '/etc/hallmark/ca.pem',
      tokenPath: '/tokens/t',
      outputDir: '/out',
      healthListen: { host: '127.0.0.1', port: 9000 },
      keyType: 'ed25519',
      onceTimeoutMs: 120_000,
      once: true,
    });
  });

  it.each([
    [{}, 'HALLMARK_SERVER_URL'],
    [{ HALLMARK_SERVER_URL: 'http://hallmark:8443' }, 'HALLMARK_SERVER_URL'],
    [{ HALLMARK_SERVER_URL: 'https://user:pw@hallmark:8443' }, 'HALLMARK_SERVER_URL'],
    [{ HALLMARK_SERVER_URL: 'not a url' }, 'HALLMARK_SERVER_URL'],
    [{ ...base, HALLMARK_KEY_TYPE: 'rsa-1024' }, 'HALLMARK_KEY_TYPE'],
    [{ ...base, HALLMARK_ONCE_TIMEOUT: '60' }, 'HALLMARK_ONCE_TIMEOUT'],
    [{ ...base, HALLMARK_ONCE_TIMEOUT: '2h' }, 'HALLMARK_ONCE_TIMEOUT'],
    [{ ...base, HALLMARK_HEALTH_LISTEN: '8081' }, 'HALLMARK_HEALTH_LISTEN'],
    [{ ...base, HALLMARK_HEALTH_LISTEN: '0.0.0.0:70000' }, 'HALLMARK_HEALTH_LISTEN'],
    [{ ...base, HALLMARK_OUTPUT_DIRECTORY: '/out' }, 'HALLMARK_OUTPUT_DIRECTORY'],
  ])('refuses %j naming %s', (env, variable) => {
    const err = failure(env as Record<string, string>);
    expect(err.code).toBe('ERR_CONFIG_INVALID');
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });
});
