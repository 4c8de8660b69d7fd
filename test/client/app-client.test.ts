// AppSecretsClient: token and bundle files from the sidecar's directory, re-read when replaced.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppSecretsClient, WatchedFile, appClientOptionsFromEnv } from '../../src/client/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { HallmarkApp } from '../../src/http/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { buildSecretApp } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls, type TestTls } from '../secrets/helpers/test-tls.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { MemorySecretStore } from '../doubles/memory-secret-store.js';
import { codeOf } from '../helpers/error-code.js';

/** Replaces a file the way the sidecar does: write a temp file, rename it over the old one. */
async function replaceFile(file: string, text: string): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: 0o640 });
  await rename(temp, file);
}

describe('AppSecretsClient', () => {
  let tls: TestTls;
  let app: HallmarkApp;
  let url: string;
  let dir: string;
  const clients: AppSecretsClient[] = [];
  const open = (options: Partial<ConstructorParameters<typeof AppSecretsClient>[0]> = {}) => {
    const made = new AppSecretsClient({ serverUrl: url, dir, timeoutMs: 5_000, ...options });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    tls = makeTestTls();
    const store = new MemorySecretStore({
      master: new MasterKey(randomBytes(32)),
      clock: systemClock,
    });
    app = await buildSecretApp({ tls, store, audit: new MemoryAuditLog(systemClock) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-app-client-'));
    await store.put(parseSecretPath('payments/api/key'), 'api-key-value', 'key:admin');
    await store.put(parseSecretPath('payments/worker/token'), 'worker-value', 'key:admin');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads secrets with the token and bundle from the directory', async () => {
    await replaceFile(path.join(dir, 'access-token'), 'api-token\n');
    await replaceFile(path.join(dir, 'bundle.pem'), tls.caPem);
    const client = open();
    expect(await client.getSecret('payments/api/key')).toBe('api-key-value');
    const both = await client.getSecrets(['payments/api/key', 'payments/worker/token']);
    expect(Object.fromEntries(both)).toEqual({
      'payments/api/key': 'api-key-value',
      'payments/worker/token': 'worker-value',
    });
  });

  it('uses a replaced token on the next call', async () => {
    await replaceFile(path.join(dir, 'access-token'), 'api-token');
    await replaceFile(path.join(dir, 'bundle.pem'), tls.caPem);
    const client = open();
    expect(await client.getSecret('payments/api/key')).toBe('api-key-value');
    // The worker identity may not read payments/api/key: the refusal proves the new token was sent.
    await replaceFile(path.join(dir, 'access-token'), 'worker-token');
    expect(await codeOf(client.getSecret('payments/api/key'))).toBe('ERR_POLICY_DENIED');
    expect(await client.getSecret('payments/worker/token')).toBe('worker-value');
  });

  it('fails with a clear code when the token file is missing or empty', async () => {
    const client = open({ tokenFile: path.join(dir, 'no-such-token') });
    expect(await codeOf(client.getSecret('payments/api/key'))).toBe('ERR_CLIENT_TOKEN_UNAVAILABLE');
    await writeFile(path.join(dir, 'empty-token'), '\n');
    const empty = open({ tokenFile: path.join(dir, 'empty-token') });
    expect(await codeOf(empty.getSecret('payments/api/key'))).toBe('ERR_CLIENT_TOKEN_UNAVAILABLE');
  });

  it('re-reads a replaced bundle (CA rotation) and trusts only what it holds', async () => {
    const bundle = path.join(dir, 'rotating-bundle.pem');
    await replaceFile(path.join(dir, 'access-token'), 'api-token');
    await replaceFile(bundle, tls.otherCaPem);
    const client = open({ bundleFile: bundle });
    expect(await codeOf(client.getSecret('payments/api/key'))).toBe('ERR_CLIENT_TLS');
    await replaceFile(bundle, tls.otherCaPem + tls.caPem);
    expect(await client.getSecret('payments/api/key')).toBe('api-key-value');
    const missing = open({ bundleFile: path.join(dir, 'no-bundle.pem') });
    expect(await codeOf(missing.getSecret('payments/api/key'))).toBe(
      'ERR_CLIENT_BUNDLE_UNAVAILABLE',
    );
  });

  it('builds its options from HALLMARK_* variables and names a missing one', () => {
    expect(
      appClientOptionsFromEnv({
        HALLMARK_SERVER_URL: 'https://hallmark.hallmark.svc:8443',
        HALLMARK_OUTPUT_DIR: '/run/hm',
        HALLMARK_ACCESS_TOKEN_FILE: '',
      }),
    ).toEqual({
      serverUrl: 'https://hallmark.hallmark.svc:8443',
      dir: '/run/hm',
      tokenFile: undefined,
      bundleFile: undefined,
    });
    expect(() => appClientOptionsFromEnv({})).toThrow(/^HALLMARK_SERVER_URL: required/);
    expect(() => appClientOptionsFromEnv({ HALLMARK_SERVER_URL: 'http://x' })).toThrow(
      /^HALLMARK_SERVER_URL: expected an https/,
    );
  });
});

describe('WatchedFile', () => {
  it('reports a change only when the file was replaced', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-watched-'));
    try {
      const file = path.join(dir, 'token');
      await writeFile(file, ' first \n');
      const watched = new WatchedFile(file);
      expect(await watched.read()).toEqual({ text: 'first', changed: true });
      expect(await watched.read()).toEqual({ text: 'first', changed: false });
      // Same size, new inode: an atomic replacement is seen even if mtime did not move.
      await replaceFile(file, ' secnd \n');
      expect(await watched.read()).toEqual({ text: 'secnd', changed: true });
      await rm(file);
      await expect(watched.read()).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
