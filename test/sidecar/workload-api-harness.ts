// In-process fixture for Workload API tests: the sidecar's refresh loop against an in-process
// server (real certificates from a test CA, real ES256 JWT-SVIDs), a hand-moved clock and timers,
// and a gRPC client on the real Unix socket.
import { X509Certificate, generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { startSidecar } from '../../sidecar/index.js';
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
import { WorkloadApiClient } from './workload-api-client.js';
import { waitFor } from './wait-for.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { MemoryCredentialStore } from '../doubles/memory-credential-store.js';

/** Start of the hand-moved clock. */
export const T0 = Date.UTC(2026, 2, 1);
/** The workload's SPIFFE ID. */
export const ID = 'spiffe://hallmark.local/ns/payments/sa/api';
/** Its trust domain's key in bundle maps. */
export const TRUST_DOMAIN_ID = 'spiffe://hallmark.local';

/** A JWT authority: a real P-256 key and its bundle entry. */
export function jwtAuthority(kid: string): { key: KeyObject; jwk: JwtAuthorityJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return {
    key: privateKey,
    jwk: { kty: kty as string, crv, x, y, kid, use: 'jwt-svid', alg: 'ES256' },
  };
}

/** The Hallmark server's sidecar-facing calls, answered in-process with real credentials. */
export class InProcessServer implements HallmarkServerApi, JwtServerApi {
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
    const svid = await issueTestSvid(this.pki, csrPem, ID, this.svidTtlSeconds, this.clock);
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

/** A sidecar with its Workload API, driven by hand. */
export interface Harness {
  readonly clock: ManualClock;
  readonly timers: ManualTimers;
  readonly server: InProcessServer;
  readonly config: SidecarConfig;
  readonly attempts: RefreshAttempt[];
  /** Set by {@link Harness.start}. */
  readonly sidecar: SidecarHandle;
  readonly client: WorkloadApiClient;
  /** Starts the sidecar (nothing is obtained until the first timer runs) and a client. */
  start(): Promise<SidecarHandle>;
  /** Moves the clock to `at`, runs every timer due by then, waits for that many attempts. */
  advanceTo(at: number, expectedAttempts?: number): Promise<void>;
  close(): Promise<void>;
}

/** A fresh fixture in its own temp directory (socket `<dir>/agent.sock`). */
export async function createHarness(): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-wlapi-'));
  const clock = new ManualClock(T0);
  const timers = new ManualTimers(clock);
  const server = new InProcessServer(await createTestPki(clock), clock);
  const attempts: RefreshAttempt[] = [];
  const config: SidecarConfig = Object.freeze({
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
  let sidecar: SidecarHandle | undefined;
  let client: WorkloadApiClient | undefined;
  return {
    clock,
    timers,
    server,
    config,
    attempts,
    get sidecar() {
      if (sidecar === undefined) throw new Error('not started');
      return sidecar;
    },
    get client() {
      if (client === undefined) throw new Error('not started');
      return client;
    },
    async start() {
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
    },
    async advanceTo(at, expectedAttempts = 0) {
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
    },
    async close() {
      client?.close();
      await sidecar?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The leaf certificate of a `FetchX509SVID` message's default SVID. */
export function leafOf(message: { svids: readonly { x509_svid: Buffer }[] }): X509Certificate {
  return new X509Certificate(message.svids[0]!.x509_svid);
}
