// The Workload API over its real Unix socket, with the sidecar's refresh loop driven in-process:
// real certificates and real ES256 JWTs from an in-process server, a hand-moved clock and timers.
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock/index.js';
import { HallmarkError } from '../../src/errors/index.js';
import {
  MemoryCredentialStore,
  ServerRefusal,
  SOCKET_MODE,
  UNKNOWN_KID_REFETCH_MS,
  startSidecar,
} from '../../sidecar/index.js';
import type {
  ClientCertificate,
  HallmarkServerApi,
  IssuedAccessToken,
  IssuedJwtSvid,
  IssuedSvid,
  JwtAuthorities,
  JwtAuthorityJwk,
  JwtServerApi,
  RefreshAttempt,
  SidecarConfig,
  SidecarHandle,
} from '../../sidecar/index.js';
import { ManualTimers, MemoryLogger } from './fakes.js';
import { createTestPki, issueTestSvid } from './test-pki.js';
import type { TestPki } from './test-pki.js';
import { WorkloadApiClient, failureOf, structToJson } from './workload-api-client.js';
import { waitFor } from './wait-for.js';

const T0 = Date.UTC(2026, 2, 1);
const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
const TRUST_DOMAIN_ID = 'spiffe://hallmark.local';

/** A JWT authority: a real P-256 key and its bundle entry. */
function jwtAuthority(kid: string): { key: KeyObject; jwk: JwtAuthorityJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return {
    key: privateKey,
    jwk: { kty: kty as string, crv, x, y, kid, use: 'jwt-svid', alg: 'ES256' },
  };
}

/** The Hallmark server's sidecar-facing calls, answered in-process with real credentials. */
class InProcessServer implements HallmarkServerApi, JwtServerApi {
  failure: Error | undefined;
  svidTtlSeconds = 3600;
  refreshHintMs = 5_000;
  bundleFetches = 0;
  readonly jwtClients: string[] = [];
  readonly authorities = [jwtAuthority('k1')];

  constructor(
    public pki: TestPki,
    private readonly clock: ManualClock,
  ) {}

  async issueSvid(_token: string, csrPem: string): Promise<IssuedSvid> {
    if (this.failure) throw this.failure;
    const svid = issueTestSvid(this.pki, csrPem, ID, this.svidTtlSeconds, this.clock);
    return {
      spiffeId: ID,
      chainPem: svid.chainPem,
      expiresAt: svid.notAfter.getTime(),
      bundlePem: this.pki.bundlePem,
    };
  }

  async login(): Promise<IssuedAccessToken> {
    return { token: 'access-token', expiresAt: this.clock.now() + 8 * 60_000 };
  }

  async issueJwtSvid(
    client: ClientCertificate,
    audience: readonly string[],
  ): Promise<IssuedJwtSvid> {
    this.jwtClients.push(client.chainPem);
    return { spiffeId: ID, token: await this.sign({ aud: [...audience] }), expiresAt: 0 };
  }

  async jwtAuthorities(): Promise<JwtAuthorities> {
    this.bundleFetches++;
    return { keys: this.authorities.map((a) => a.jwk), refreshHintMs: this.refreshHintMs };
  }

  /** A JWT-SVID signed by authority `index`, valid for 5 minutes from the clock. */
  sign(claims: Record<string, unknown>, index = 0, sub = ID): Promise<string> {
    const authority = this.authorities[index]!;
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ sub, iat: now, exp: now + 300, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: authority.jwk.kid, typ: 'JWT' })
      .sign(authority.key);
  }
}

let dir: string;
let clock: ManualClock;
let timers: ManualTimers;
let server: InProcessServer;
let config: SidecarConfig;
let sidecar: SidecarHandle | undefined;
let client: WorkloadApiClient | undefined;
let attempts: RefreshAttempt[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-wlapi-'));
  clock = new ManualClock(T0);
  timers = new ManualTimers(clock);
  server = new InProcessServer(createTestPki(clock), clock);
  attempts = [];
  config = Object.freeze({
    serverUrl: 'https://127.0.0.1:1',
    serverBundlePath: undefined,
    tokenPath: path.join(dir, 'token'),
    outputDir: path.join(dir, 'out'),
    healthListen: { host: '127.0.0.1', port: 0 },
    keyType: 'ec-p256',
    onceTimeoutMs: 20_000,
    once: false,
    workloadApiSocket: path.join(dir, 'agent.sock'),
  });
});

afterEach(async () => {
  client?.close();
  client = undefined;
  await sidecar?.stop();
  sidecar = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<SidecarHandle> {
  sidecar = await startSidecar(config, {
    clock,
    timers,
    random: () => 0.5,
    log: new MemoryLogger(),
    api: server,
    jwtApi: server,
    projectedToken: { read: async () => 'projected-token' },
    store: new MemoryCredentialStore(),
    healthServer: false,
  });
  sidecar.onAttempt((attempt) => attempts.push(attempt));
  client = new WorkloadApiClient(sidecar.workloadApi!.endpoint);
  return sidecar;
}

/** Moves the clock to `at` and runs every timer due by then; waits for the refresh attempts. */
async function advanceTo(at: number, expectedAttempts = 0): Promise<void> {
  clock.set(Math.max(at, clock.now()));
  const before = attempts.length;
  for (
    let timer = timers.earliest();
    timer && timer.due <= clock.now();
    timer = timers.earliest()
  ) {
    timers.pending.delete(timer.id);
    timer.callback();
    // Each step of the refresh loop is asynchronous (key generation, the server call).
    await new Promise((resolve) => setImmediate(resolve));
  }
  await waitFor('refresh attempts', () => attempts.length >= before + expectedAttempts);
}

function leafOf(message: { svids: readonly { x509_svid: Buffer }[] }): X509Certificate {
  return new X509Certificate(message.svids[0]!.x509_svid);
}

describe('Workload API: X509-SVID profile', () => {
  it('streams the SVID (DER chain, PKCS#8 key, DER bundle) once obtained, and again after renewal', async () => {
    const handle = await start();
    // Opened before the first SVID exists: the stream waits for it.
    const stream = client!.fetchX509Svid();
    await advanceTo(T0, 2);
    const first = await stream.message(1);
    expect(first.svids).toHaveLength(1);
    expect(first.crl).toEqual([]);
    expect(first.federated_bundles).toEqual({});
    const svid = first.svids[0]!;
    expect(svid.spiffe_id).toBe(ID);
    const leaf = leafOf(first);
    expect(leaf.subjectAltName).toBe(`URI:${ID}`);
    const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' });
    expect(leaf.checkPrivateKey(key)).toBe(true);
    expect(svid.bundle.equals(new X509Certificate(server.pki.bundlePem).raw)).toBe(true);
    expect(leaf.verify(new X509Certificate(server.pki.bundlePem).publicKey)).toBe(true);

    await advanceTo(handle.state.svid!.renewAt, 1);
    const second = await stream.message(2);
    expect(second.svids[0]!.spiffe_id).toBe(ID);
    expect(leafOf(second).serialNumber).not.toBe(leaf.serialNumber);
    expect(second.svids[0]!.x509_svid_key.equals(svid.x509_svid_key)).toBe(false);
    expect(stream.messages).toHaveLength(2);
    expect(stream.status).toBeUndefined();
  });

  it('sends the current SVID at once to a new stream', async () => {
    await start();
    await advanceTo(T0, 2);
    const stream = client!.fetchX509Svid();
    expect(leafOf(await stream.message(1)).subjectAltName).toBe(`URI:${ID}`);
  });

  it('ends the stream with Unavailable when the SVID expires while renewal fails, PermissionDenied once the server refuses', async () => {
    const handle = await start();
    await advanceTo(T0, 2);
    const stream = client!.fetchX509Svid();
    await stream.message(1);
    server.failure = new ServerRefusal('ERR_CA_UNAVAILABLE', 503, 'POST /v1/svid/x509: 503');
    await advanceTo(handle.state.svid!.renewAt, 1);
    expect(stream.status).toBeUndefined(); // still valid: served as long as the files are
    await advanceTo(handle.state.svid!.expiresAt);
    expect(await stream.ended()).toMatchObject({ code: status.UNAVAILABLE });
    expect((await client!.fetchX509Svid().ended()).details).toMatch(
      /^ERR_WORKLOADAPI_SVID_UNAVAILABLE: /,
    );

    server.failure = new ServerRefusal(
      'ERR_POLICY_NO_REGISTRATION',
      403,
      'POST /v1/svid/x509: 403',
    );
    await advanceTo(timers.earliest()!.due, 1);
    const refused = await client!.fetchX509Svid().ended();
    expect(refused.code).toBe(status.PERMISSION_DENIED);
    expect(refused.details).toContain('ERR_POLICY_NO_REGISTRATION');
    // The bundle is still the trust domain's: FetchX509Bundles keeps serving it.
    const bundles = client!.fetchX509Bundles();
    expect(Object.keys((await bundles.message(1)).bundles)).toEqual([TRUST_DOMAIN_ID]);
  });

  it('streams the X.509 bundle and sends a new one after a CA rotation', async () => {
    const handle = await start();
    await advanceTo(T0, 2);
    const bundles = client!.fetchX509Bundles();
    const first = await bundles.message(1);
    expect(first.crl).toEqual([]);
    expect(
      first.bundles[TRUST_DOMAIN_ID]!.equals(new X509Certificate(server.pki.bundlePem).raw),
    ).toBe(true);
    // A renewal with the same CA changes nothing for bundle watchers.
    await advanceTo(handle.state.svid!.renewAt, 1);
    await waitFor('renewed', () => attempts.filter((a) => a.credential === 'svid').length === 2);
    expect(bundles.messages).toHaveLength(1);

    server.pki = createTestPki(clock);
    await advanceTo(handle.state.svid!.renewAt, 1);
    const second = await bundles.message(2);
    expect(
      second.bundles[TRUST_DOMAIN_ID]!.equals(new X509Certificate(server.pki.bundlePem).raw),
    ).toBe(true);
  });
});

describe('Workload API: JWT-SVID profile', () => {
  it('FetchJWTSVID asks the server with the current X509-SVID and returns its token', async () => {
    await start();
    await advanceTo(T0, 2);
    const x509 = await client!.fetchX509Svid().message(1);
    const answer = await client!.fetchJwtSvid({ audience: ['payments-db', 'ledger'] });
    expect(answer.svids).toHaveLength(1);
    expect(answer.svids[0]!.spiffe_id).toBe(ID);
    const claims = JSON.parse(
      Buffer.from(answer.svids[0]!.svid.split('.')[1]!, 'base64url').toString(),
    );
    expect(claims).toMatchObject({ sub: ID, aud: ['payments-db', 'ledger'] });
    // The mTLS client certificate was the SVID the stream serves.
    expect(new X509Certificate(server.jwtClients[0]!).raw.equals(leafOf(x509).raw)).toBe(true);
    expect((await client!.fetchJwtSvid({ audience: ['a'], spiffe_id: ID })).svids).toHaveLength(1);
  });

  it('FetchJWTSVID refuses an empty audience, another SPIFFE ID, and answers Unavailable before the first SVID', async () => {
    await start();
    expect(await failureOf(client!.fetchJwtSvid({ audience: ['x'] }))).toMatchObject({
      code: status.UNAVAILABLE,
    });
    await advanceTo(T0, 2);
    const empty = await failureOf(client!.fetchJwtSvid({ audience: [] }));
    expect(empty).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(empty.details).toMatch(/^ERR_JWTSVID_AUDIENCE_INVALID: /);
    const other = await failureOf(
      client!.fetchJwtSvid({ audience: ['x'], spiffe_id: 'spiffe://hallmark.local/ns/other/sa/x' }),
    );
    expect(other.code).toBe(status.PERMISSION_DENIED);
    expect(
      (await failureOf(client!.fetchJwtSvid({ audience: ['x'], spiffe_id: 'nope' }))).code,
    ).toBe(status.INVALID_ARGUMENT);
    const impostor = new InProcessServer(server.pki, clock);
    server.issueJwtSvid = async () => {
      throw new ServerRefusal('ERR_AUTHN_CLIENT_CERT_INVALID', 401, 'POST /v1/svid/jwt: 401');
    };
    expect((await failureOf(client!.fetchJwtSvid({ audience: ['x'] }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    server.issueJwtSvid = async () => {
      throw new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'ECONNREFUSED' });
    };
    expect((await failureOf(client!.fetchJwtSvid({ audience: ['x'] }))).code).toBe(
      status.UNAVAILABLE,
    );
    server.issueJwtSvid = async (_c, audience) => ({
      spiffeId: ID,
      token: await impostor.sign(
        { aud: [...audience] },
        0,
        'spiffe://hallmark.local/ns/other/sa/x',
      ),
      expiresAt: 0,
    });
    expect((await failureOf(client!.fetchJwtSvid({ audience: ['x'] }))).details).toMatch(
      /^ERR_SIDECAR_BAD_RESPONSE: /,
    );
  });

  it('FetchJWTBundles streams the JWKS of the jwt-svid keys and a new message when a key is published', async () => {
    await start();
    await advanceTo(T0, 2);
    const stream = client!.fetchJwtBundles();
    const first = await stream.message(1);
    expect(Object.keys(first.bundles)).toEqual([TRUST_DOMAIN_ID]);
    expect(JSON.parse(first.bundles[TRUST_DOMAIN_ID]!.toString('utf8'))).toEqual({
      keys: [server.authorities[0]!.jwk],
    });
    // Unchanged at the next poll: no message.
    await advanceTo(clock.now() + 5_000);
    await waitFor('poll', () => timers.earliest() !== undefined);
    server.authorities.push(jwtAuthority('k2'));
    await advanceTo(clock.now() + 5_000);
    const second = await stream.message(2);
    const keys = JSON.parse(second.bundles[TRUST_DOMAIN_ID]!.toString('utf8')).keys;
    expect(keys.map((k: JwtAuthorityJwk) => k.kid)).toEqual(['k1', 'k2']);
    expect(stream.messages).toHaveLength(2);
  });

  it('ValidateJWTSVID returns the SPIFFE ID and claims, and refuses with go-spiffe reasons', async () => {
    server.refreshHintMs = 300_000;
    await start();
    await advanceTo(T0, 2);
    const token = await server.sign({ aud: ['ledger'], scope: { read: [1, true, null] } });
    const valid = await client!.validateJwtSvid({ audience: 'ledger', svid: token });
    expect(valid.spiffe_id).toBe(ID);
    expect(structToJson(valid.claims)).toMatchObject({
      sub: ID,
      aud: ['ledger'],
      scope: { read: [1, true, null] },
    });

    const wrongAudience = await failureOf(
      client!.validateJwtSvid({ audience: 'other', svid: token }),
    );
    expect(wrongAudience.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongAudience.details).toMatch(/^ERR_JWTSVID_AUDIENCE_MISMATCH: expected audience in/);
    expect(
      (await failureOf(client!.validateJwtSvid({ audience: 'ledger', svid: '' }))).details,
    ).toMatch(/^ERR_WORKLOADAPI_REQUEST_INVALID: /);
    expect((await failureOf(client!.validateJwtSvid({ audience: '', svid: token }))).code).toBe(
      status.INVALID_ARGUMENT,
    );

    // The bundle is cached for its refresh hint (300 s here)...
    expect(server.bundleFetches).toBe(1);
    server.authorities.push(jwtAuthority('k2'));
    const fresh = await server.sign({ aud: ['ledger'] }, 1);
    expect(
      (await failureOf(client!.validateJwtSvid({ audience: 'ledger', svid: fresh }))).details,
    ).toMatch(/^ERR_JWTSVID_AUTHORITY_UNKNOWN: /);
    // ...but a key published since is found by fetching again once the cache is 5 s old.
    clock.advance(UNKNOWN_KID_REFETCH_MS);
    expect((await client!.validateJwtSvid({ audience: 'ledger', svid: fresh })).spiffe_id).toBe(ID);
    expect(server.bundleFetches).toBe(2);
    const stranger = jwtAuthority('k3');
    const unknown = await new SignJWT({
      sub: ID,
      aud: ['ledger'],
      exp: Math.floor(clock.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k3' })
      .sign(stranger.key);
    expect(
      (await failureOf(client!.validateJwtSvid({ audience: 'ledger', svid: unknown }))).details,
    ).toMatch(/^ERR_JWTSVID_AUTHORITY_UNKNOWN: /);
    clock.advance(10 * 60_000);
    expect(
      (await failureOf(client!.validateJwtSvid({ audience: 'ledger', svid: token }))).details,
    ).toMatch(/^ERR_JWTSVID_EXPIRED: token has expired$/);
  });
});

describe('Workload API endpoint', () => {
  it('refuses every RPC without the security header workload.spiffe.io: true (InvalidArgument)', async () => {
    await start();
    await advanceTo(T0, 2);
    for (const header of [false, 'True', 'yes'] as const) {
      for (const stream of [
        client!.fetchX509Svid({ header }),
        client!.fetchX509Bundles({ header }),
        client!.fetchJwtBundles({ header }),
      ]) {
        const ended = await stream.ended();
        expect(ended).toEqual({
          code: status.INVALID_ARGUMENT,
          details:
            'ERR_WORKLOADAPI_HEADER_MISSING: the security header workload.spiffe.io: true is required',
        });
        expect(stream.messages).toEqual([]);
      }
      for (const call of [
        client!.fetchJwtSvid({ audience: ['x'] }, { header }),
        client!.validateJwtSvid({ audience: 'x', svid: 'a.b.c' }, { header }),
      ]) {
        expect((await failureOf(call)).code).toBe(status.INVALID_ARGUMENT);
      }
    }
    expect(server.jwtClients).toEqual([]);
  });

  it('answers Unimplemented for the optional WIT-SVID profile', async () => {
    await start();
    expect((await client!.fetchWitSvid().ended()).code).toBe(status.UNIMPLEMENTED);
  });

  it('serves the socket with mode 0660 and removes it on stop; open streams end with Unavailable', async () => {
    const handle = await start();
    expect((await stat(config.workloadApiSocket!)).mode & 0o777).toBe(SOCKET_MODE);
    expect(SOCKET_MODE).toBe(0o660);
    await advanceTo(T0, 2);
    const stream = client!.fetchX509Svid();
    await stream.message(1);
    await waitFor('stream registered', () => handle.workloadApi!.openStreams === 1);
    await handle.stop();
    expect(await stream.ended()).toEqual({
      code: status.UNAVAILABLE,
      details: 'ERR_WORKLOADAPI_STOPPING: the sidecar is stopping',
    });
    await expect(stat(config.workloadApiSocket!)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
