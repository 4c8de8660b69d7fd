import { X509Certificate } from 'node:crypto';
import { stat, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { systemClock } from '../../src/clock/index.js';
import { isHallmarkError } from '../../src/errors/index.js';
import { runSidecarOnce, startSidecar } from '../../sidecar/index.js';
import type { SidecarConfig, SidecarHandle } from '../../sidecar/index.js';
import { startFakeHallmarkServer } from './fake-hallmark-server.js';
import type { FakeHallmarkServer } from './fake-hallmark-server.js';
import { MemoryLogger } from './fakes.js';
import { createTestPki } from './test-pki.js';
import { waitFor } from './wait-for.js';

let fake: FakeHallmarkServer;
let root: string;
let dir: string;
let config: SidecarConfig;
let sidecar: SidecarHandle | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'hallmark-sidecar-'));
  const pki = await createTestPki(systemClock);
  fake = await startFakeHallmarkServer(pki);
  await writeFile(path.join(root, 'ca.pem'), pki.bundlePem);
  await writeFile(path.join(root, 'token'), 'projected-token');
});

afterAll(async () => {
  await fake?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.behaviour = { kind: 'normal' };
  fake.seen.length = 0;
  dir = await mkdtemp(path.join(root, 'out-'));
  config = Object.freeze({
    serverUrl: fake.url,
    serverBundlePath: path.join(root, 'ca.pem'),
    tokenPath: path.join(root, 'token'),
    outputDir: path.join(dir, 'hallmark'),
    healthListen: { host: '127.0.0.1', port: 0 },
    keyType: 'ec-p256',
    onceTimeoutMs: 20_000,
    once: false,
  });
});

afterEach(async () => {
  await sidecar?.stop();
  sidecar = undefined;
});

const modeOf = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;
const outputFile = (name: string): string => path.join(config.outputDir, name);
const unavailable = {
  kind: 'error',
  status: 503,
  body: '{"error":{"code":"ERR_CA_UNAVAILABLE","message":"x"}}',
} as const;

describe('startSidecar', () => {
  it('serves 503 until the files are written, then 200, metrics, and a clean stop', async () => {
    fake.behaviour = unavailable;
    const log = new MemoryLogger();
    sidecar = await startSidecar(config, { log });
    const health = sidecar.health!;
    await waitFor('degraded', () => sidecar?.phase === 'degraded');
    const before = await fetch(`${health.url}/healthz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({
      phase: 'degraded',
      last_error: 'ERR_CA_UNAVAILABLE',
    });

    fake.behaviour = { kind: 'normal' };
    await waitFor('ready', () => sidecar?.phase === 'ready');
    const after = await fetch(`${health.url}/healthz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ phase: 'ready', last_error: null });
    expect((await readdir(config.outputDir)).sort()).toEqual([
      'access-token',
      'bundle.pem',
      'svid-key.pem',
      'svid.pem',
    ]);
    expect(await modeOf(outputFile('svid-key.pem'))).toBe(0o600);
    expect(await modeOf(outputFile('access-token'))).toBe(0o640);
    expect(await readFile(outputFile('access-token'), 'utf8')).toBe(`access-for-${fake.spiffeId}`);

    const metrics = await (await fetch(`${health.url}/metrics`)).text();
    expect(metrics).toMatch(
      /hallmark_sidecar_refresh_total\{credential="svid",outcome="success"\} 1/,
    );
    expect(metrics).toMatch(
      /hallmark_sidecar_refresh_total\{credential="token",outcome="success"\} 1/,
    );
    expect(metrics).toMatch(
      /hallmark_sidecar_refresh_failures_total\{credential="svid",code="ERR_CA_UNAVAILABLE"\} [1-9]/,
    );
    expect(metrics).toMatch(/hallmark_sidecar_healthy 1/);
    const svidSeconds = Number(/hallmark_sidecar_svid_expiry_seconds ([0-9.]+)/.exec(metrics)?.[1]);
    expect(svidSeconds).toBeGreaterThan(3000);
    expect(svidSeconds).toBeLessThanOrEqual(3600);
    expect(metrics).toMatch(/process_resident_memory_bytes/);
    expect((await fetch(`${health.url}/nothing`)).status).toBe(404);

    await sidecar.stop();
    await expect(fetch(`${health.url}/healthz`)).rejects.toThrow();
    // Files stay for the app's remaining lifetime.
    expect(await readFile(outputFile('access-token'), 'utf8')).toBe(`access-for-${fake.spiffeId}`);
    expect(log.phases()).toEqual(['starting', 'degraded', 'recovered', 'stopped']);
    expect(JSON.stringify(log.lines)).not.toContain('access-for-');
  });

  it('stops without waiting for a call the server never answers', async () => {
    fake.behaviour = { kind: 'hang' };
    sidecar = await startSidecar(config, { log: new MemoryLogger() });
    await waitFor('a hanging request', () => fake.hanging.size > 0);
    await sidecar.stop();
    // stop() returned while the request was still open: it was abandoned, not awaited.
    expect(fake.hanging.size).toBe(1);
    expect(sidecar.phase).toBe('starting');
    await expect(readdir(config.outputDir)).resolves.toEqual([]);
  });

  it('refuses to start without a CA for the server (no trust on first use)', async () => {
    const err = await startSidecar({ ...config, serverBundlePath: undefined }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('HALLMARK_SERVER_BUNDLE');
    expect(fake.seen).toHaveLength(0);
  });
});

describe('runSidecarOnce', () => {
  it('resolves once all four files are written, and leaves them', async () => {
    await runSidecarOnce(config, { log: new MemoryLogger() });
    expect((await readdir(config.outputDir)).sort()).toEqual([
      'access-token',
      'bundle.pem',
      'svid-key.pem',
      'svid.pem',
    ]);
    // A later start needs no configured bundle: bundle.pem now vouches for the server.
    await runSidecarOnce({ ...config, serverBundlePath: undefined }, { log: new MemoryLogger() });
    expect(fake.seen.filter((r) => r.route === 'POST /v1/svid/x509')).toHaveLength(2);
  });

  it('writes the federated bundles that come with the SVID to federated/<td>.pem', async () => {
    const b = await createTestPki(systemClock, 'b.test');
    const cert = new X509Certificate(b.bundlePem);
    fake.federatedBundles = {
      'b.test': {
        keys: [
          {
            ...cert.publicKey.export({ format: 'jwk' }),
            use: 'x509-svid',
            x5c: [cert.raw.toString('base64')],
          },
        ],
        spiffe_sequence: 3,
      },
    };
    try {
      await runSidecarOnce(config, { log: new MemoryLogger() });
    } finally {
      fake.federatedBundles = undefined;
    }
    expect(await readdir(outputFile('federated'))).toEqual(['b.test.pem']);
    const pem = await readFile(outputFile('federated/b.test.pem'), 'utf8');
    expect(new X509Certificate(pem).raw.equals(cert.raw)).toBe(true);
    expect(await modeOf(outputFile('federated/b.test.pem'))).toBe(0o644);
  });

  it('fails at once on a definitive refusal, naming its code', async () => {
    fake.behaviour = {
      kind: 'error',
      status: 403,
      body: '{"error":{"code":"ERR_POLICY_NO_REGISTRATION","message":"no registration matches this workload"}}',
    };
    const err = await runSidecarOnce(config, { log: new MemoryLogger() }).catch((e: unknown) => e);
    expect(isHallmarkError(err, 'ERR_POLICY_NO_REGISTRATION')).toBe(true);
    // One attempt, no retries.
    expect(fake.seen).toHaveLength(1);
    await expect(readdir(config.outputDir)).resolves.toEqual([]);
  });

  it('retries an outage until the bound, then fails naming the last error', async () => {
    fake.behaviour = unavailable;
    const err = await runSidecarOnce(
      { ...config, onceTimeoutMs: 2500 },
      { log: new MemoryLogger() },
    ).catch((e: unknown) => e);
    expect(isHallmarkError(err, 'ERR_SIDECAR_ONCE_TIMEOUT')).toBe(true);
    expect((err as Error).message).toContain('ERR_CA_UNAVAILABLE');
    expect(fake.seen.length).toBeGreaterThan(1);
  });
});
