import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import type { HallmarkError } from '../../src/errors/index.js';
import {
  ClientServerApi,
  ProjectedTokenFile,
  ServerCredentialSource,
  ServerRefusal,
  ServerTrustFiles,
} from '../../sidecar/index.js';
import { startFakeHallmarkServer } from './fake-hallmark-server.js';
import type { FakeHallmarkServer } from './fake-hallmark-server.js';
import { createTestPki } from './test-pki.js';
import type { TestPki } from './test-pki.js';
import { MemoryCredentialStore } from '../doubles/memory-credential-store.js';

let dir: string;
let pki: TestPki;
let fake: FakeHallmarkServer;
let bundlePath: string;
let tokenPath: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-source-'));
  pki = await createTestPki(systemClock);
  fake = await startFakeHallmarkServer(pki);
  bundlePath = path.join(dir, 'ca.pem');
  tokenPath = path.join(dir, 'token');
  await writeFile(bundlePath, pki.bundlePem);
});

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.behaviour = { kind: 'normal' };
  fake.seen.length = 0;
  await writeFile(tokenPath, 'projected-token-1\n');
});

function sourceWith(
  options: { url?: string; bundle?: string | undefined; store?: MemoryCredentialStore } = {},
) {
  const store = options.store ?? new MemoryCredentialStore();
  const trust = new ServerTrustFiles('bundle' in options ? options.bundle : bundlePath, store);
  const api = new ClientServerApi({ serverUrl: options.url ?? fake.url, trust, timeoutMs: 5000 });
  return new ServerCredentialSource({
    api,
    projectedToken: new ProjectedTokenFile(tokenPath),
    keyType: 'ec-p256',
    clock: systemClock,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<HallmarkError> {
  try {
    await promise;
  } catch (err) {
    return err as HallmarkError;
  }
  throw new Error('expected a failure');
}

describe('ServerCredentialSource over the client library', () => {
  it('attests with the projected token, checks the SVID and logs in with it over mTLS', async () => {
    const source = sourceWith();
    const svid = await source.obtainSvid();
    expect(fake.seen[0]).toMatchObject({
      route: 'POST /v1/svid/x509',
      authorization: 'Bearer projected-token-1',
    });
    expect(svid.spiffeId).toBe(fake.spiffeId);
    const leaf = new X509Certificate(svid.files.chainPem);
    expect(leaf.checkPrivateKey(createPrivateKey(svid.files.keyPem))).toBe(true);
    expect(svid.expiresAt).toBe(Date.parse(leaf.validTo));
    expect(svid.files.bundlePem).toBe(pki.bundlePem);

    const token = await source.obtainToken(svid.files);
    expect(fake.seen[1]).toMatchObject({
      route: 'POST /v1/authn/login',
      authorization: undefined,
      clientSpiffeId: fake.spiffeId,
    });
    expect(token.token).toBe(`access-for-${fake.spiffeId}`);
    expect(token.expiresAt).toBeGreaterThan(Date.now());
  });

  it('re-reads the projected token and makes a new key for every SVID', async () => {
    const source = sourceWith();
    const first = await source.obtainSvid();
    await writeFile(tokenPath, 'projected-token-2');
    const second = await source.obtainSvid();
    expect(fake.seen.map((r) => r.authorization)).toEqual([
      'Bearer projected-token-1',
      'Bearer projected-token-2',
    ]);
    expect(second.files.keyPem).not.toBe(first.files.keyPem);
  });

  it('maps error answers to the server code and tells decisions from outages', async () => {
    const source = sourceWith();
    const cases: [number, string, string, boolean][] = [
      [
        403,
        '{"error":{"code":"ERR_POLICY_NO_REGISTRATION","message":"x"}}',
        'ERR_POLICY_NO_REGISTRATION',
        true,
      ],
      [
        401,
        '{"error":{"code":"ERR_ATTEST_TOKEN_MISSING","message":"x"}}',
        'ERR_ATTEST_TOKEN_MISSING',
        true,
      ],
      [
        429,
        '{"error":{"code":"ERR_REQUEST_RATE_LIMITED","message":"x"}}',
        'ERR_REQUEST_RATE_LIMITED',
        false,
      ],
      [
        503,
        '{"error":{"code":"ERR_ATTEST_UNAVAILABLE","message":"x"}}',
        'ERR_ATTEST_UNAVAILABLE',
        false,
      ],
      [
        403,
        '{"error":{"code":"ERR_FROM_THE_FUTURE","message":"x"}}',
        'ERR_SIDECAR_SERVER_REFUSED',
        true,
      ],
      [502, '<html>bad gateway</html>', 'ERR_SIDECAR_SERVER_REFUSED', false],
    ];
    for (const [status, body, code, definitive] of cases) {
      fake.behaviour = { kind: 'error', status, body };
      const err = await failureOf(source.obtainSvid());
      expect(err).toBeInstanceOf(ServerRefusal);
      expect({ code: err.code, definitive: (err as ServerRefusal).definitive }).toEqual({
        code,
        definitive,
      });
    }
  });

  it('rejects an SVID whose SPIFFE ID differs from the one announced', async () => {
    fake.behaviour = { kind: 'wrong-spiffe-id' };
    const err = await failureOf(sourceWith().obtainSvid());
    expect(err.code).toBe('ERR_SIDECAR_BAD_RESPONSE');
  });

  it('refuses a server its bundle does not vouch for, before sending the token', async () => {
    const other = await createTestPki(systemClock);
    const otherBundle = path.join(dir, 'other-ca.pem');
    await writeFile(otherBundle, other.bundlePem);
    const err = await failureOf(sourceWith({ bundle: otherBundle }).obtainSvid());
    expect(err.code).toBe('ERR_SIDECAR_SERVER_UNREACHABLE');
    expect(fake.seen).toHaveLength(0);
  });

  it('trusts the bundle.pem written earlier when no bundle is configured, and nothing otherwise', async () => {
    const empty = new MemoryCredentialStore();
    const err = await failureOf(sourceWith({ bundle: undefined, store: empty }).obtainSvid());
    expect(err.code).toBe('ERR_SIDECAR_TRUST_UNAVAILABLE');
    const written = new MemoryCredentialStore();
    await written.writeSvid({ chainPem: '', keyPem: '', bundlePem: pki.bundlePem });
    const svid = await sourceWith({ bundle: undefined, store: written }).obtainSvid();
    expect(svid.spiffeId).toBe(fake.spiffeId);
  });

  it('reports an unreadable projected token and an unreachable server by code', async () => {
    await rm(tokenPath);
    expect((await failureOf(sourceWith().obtainSvid())).code).toBe('ERR_SIDECAR_TOKEN_UNREADABLE');
    await writeFile(tokenPath, 'projected-token-1');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failureOf(sourceWith({ url: `https://127.0.0.1:${port}` }).obtainSvid());
    expect(err.code).toBe('ERR_SIDECAR_SERVER_UNREACHABLE');
  });
});
