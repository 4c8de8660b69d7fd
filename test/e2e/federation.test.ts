// SPIFFE federation between two real Hallmark servers, trust domains a.test and b.test, each
// with its own embedded PostgreSQL: A fetches B's bundle over https_spiffe (B's SVID, pinned),
// B fetches A's over https_web (a test Web PKI root). Workloads of each verify the other's
// X509-SVIDs and JWT-SVIDs through their sidecars; B's CA rotation reaches A's workload within
// one refresh hint; a hostile endpoint's bundles are refused, audited, and change nothing.
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, createServer as createTlsServer } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecar, type SidecarHandle } from '../../sidecar/index.js';
import { auditSettled } from '../helpers/audit-settled.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { createWebPki, type WebPki } from '../federation/web-pki.js';
import { MemoryLogger } from '../sidecar/fakes.js';
import { createTestPki, type TestPki } from '../sidecar/test-pki.js';
import { waitFor } from '../sidecar/wait-for.js';
import { WorkloadApiClient, failureOf } from '../sidecar/workload-api-client.js';
import { signCompactJws } from '../../src/keyring/index.js';
import { systemClock } from '../../src/clock/index.js';

const B_SERVER = 'spiffe://b.test/hallmark/server';
const A_WEB = 'spiffe://a.test/ns/shop/sa/web';
const B_API = 'spiffe://b.test/ns/pay/sa/api';
/** B's CA lives 5 minutes: its bundle's refresh hint is 25 s (a twelfth, SPIRE's ratio). */
const B_CA_TTL = '5m';

let dir: string;
let web: WebPki;
let a: HallmarkStack;
let b: HallmarkStack;
let hostile: Server;
let hostileAnswer = '';
let hostileUrl: string;
let h: TestPki;
const sidecars: SidecarHandle[] = [];
const clients: WorkloadApiClient[] = [];

const indent = (pem: string, spaces: number): string =>
  pem
    .trim()
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');

function bundleJson(sequence: number, pems: string[], hint = 10): string {
  const keys = pems.map((pem) => {
    const cert = new X509Certificate(pem);
    return {
      ...cert.publicKey.export({ format: 'jwk' }),
      use: 'x509-svid',
      x5c: [cert.raw.toString('base64')],
    };
  });
  return JSON.stringify({ keys, spiffe_sequence: sequence, spiffe_refresh_hint: hint });
}

/** A pod in `stack`'s Kubernetes, a sidecar for it with the Workload API, and a client. */
async function workload(
  stack: HallmarkStack,
  name: string,
  namespace: string,
  serviceAccount: string,
): Promise<{ out: string; api: WorkloadApiClient; sidecar: SidecarHandle }> {
  stack.k8s.addPod({ namespace, name, serviceAccountName: serviceAccount, labels: {} });
  const out = path.join(dir, name);
  const tokenPath = path.join(dir, `${name}.token`);
  const token = await stack.k8s.issueToken({ namespace, podName: name, expirationSeconds: 600 });
  await writeFile(`${tokenPath}.new`, token);
  await rename(`${tokenPath}.new`, tokenPath);
  const socket = path.join(out, 'agent.sock');
  const sidecar = await startSidecar(
    {
      serverUrl: stack.server.url,
      serverBundlePath: stack.server.bundleFile,
      tokenPath,
      outputDir: out,
      healthListen: { host: '127.0.0.1', port: 0 },
      keyType: 'ec-p256',
      onceTimeoutMs: 30_000,
      once: false,
      workloadApiSocket: socket,
    },
    { log: new MemoryLogger(), healthServer: false },
  );
  sidecars.push(sidecar);
  await waitFor(`${name} ready`, () => sidecar.phase === 'ready');
  const api = new WorkloadApiClient(`unix://${socket}`);
  clients.push(api);
  return { out, api, sidecar };
}

async function refusals(stack: HallmarkStack): Promise<{ target: string; reason: string }[]> {
  await auditSettled(stack.server.db);
  const rows = await stack.server.db.query<{ target: string; reason: string }>(
    "SELECT target, reason FROM audit_log WHERE action = 'federation.bundle.refused' ORDER BY seq",
  );
  return rows.rows;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-federation-'));
  web = createWebPki();
  const rootFile = path.join(dir, 'web-root.pem');
  await writeFile(rootFile, web.rootPem);
  const aCert = web.issueServer({ ips: ['127.0.0.1'] });
  await writeFile(path.join(dir, 'a.crt'), aCert.certPem);
  await writeFile(path.join(dir, 'a.key'), aCert.keyPem);
  // The hostile endpoint: trust domain h.test, Web PKI under the same root.
  h = await createTestPki(systemClock, 'h.test');
  const hostileCert = web.issueServer({ ips: ['127.0.0.1'] });
  hostile = createHttpsServer({ cert: hostileCert.certPem, key: hostileCert.keyPem }, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(hostileAnswer);
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  hostileUrl = `https://127.0.0.1:${(hostile.address() as AddressInfo).port}/bundle`;
  hostileAnswer = bundleJson(5, [h.bundlePem]);

  [b, a] = await Promise.all([
    startStack({
      embeddedPostgres: true,
      caTicker: false,
      env: {
        HALLMARK_TRUST_DOMAIN: 'b.test',
        HALLMARK_CA_TTL: B_CA_TTL,
        HALLMARK_SVID_TTL: '2m',
        HALLMARK_FEDERATION_WEB_CA: rootFile,
      },
    }),
    startStack({
      embeddedPostgres: true,
      env: {
        HALLMARK_TRUST_DOMAIN: 'a.test',
        HALLMARK_FEDERATION_LISTEN: '127.0.0.1:0',
        HALLMARK_FEDERATION_TLS_CERT: path.join(dir, 'a.crt'),
        HALLMARK_FEDERATION_TLS_KEY: path.join(dir, 'a.key'),
        HALLMARK_FEDERATION_WEB_CA: rootFile,
      },
    }),
  ]);
  await a.server.policy.load(
    `federation:
  - trustDomain: b.test
    bundleEndpointURL: ${b.server.url}/v1/bundle
    profile: https_spiffe
    endpointSPIFFEID: ${B_SERVER}
    bootstrapBundle: |
${indent(b.server.ca.bundle().certificatesPem.join(''), 6)}
  - trustDomain: h.test
    bundleEndpointURL: ${hostileUrl}
    profile: https_web
workloads:
  - namespace: shop
    serviceAccount: web
    federatesWith: [b.test, h.test]
  - namespace: shop
    serviceAccount: plain
`,
    'test',
  );
  await b.server.policy.load(
    `federation:
  - trustDomain: a.test
    bundleEndpointURL: https://127.0.0.1:${a.server.federationPort}/v1/bundle
    profile: https_web
workloads:
  - namespace: pay
    serviceAccount: api
    federatesWith: [a.test]
`,
    'test',
  );
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all(sidecars.map((s) => s.stop()));
  await new Promise((resolve) => hostile?.close(resolve));
  await Promise.all([a?.close(), b?.close()]);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('federation between a.test and b.test', () => {
  let aWeb: Awaited<ReturnType<typeof workload>>;
  let bApi: Awaited<ReturnType<typeof workload>>;

  it('each server keeps the other bundle (https_spiffe one way, https_web the other)', async () => {
    await waitFor('A has B over https_spiffe', async () => {
      const rows = await a.server.db.query(
        "SELECT 1 FROM federated_bundles WHERE trust_domain = 'b.test' AND source = 'endpoint'",
      );
      return rows.rowCount === 1;
    });
    await waitFor('B has A over https_web', async () => {
      const rows = await b.server.db.query(
        "SELECT 1 FROM federated_bundles WHERE trust_domain = 'a.test' AND source = 'endpoint'",
      );
      return rows.rowCount === 1;
    });
    aWeb = await workload(a, 'web-0', 'shop', 'web');
    bApi = await workload(b, 'api-0', 'pay', 'api');
  }, 60_000);

  it("a workload of A verifies B's X509-SVIDs with the federated bundle, and B A's (mutual TLS)", async () => {
    const first = await aWeb.api.fetchX509Svid().message(1);
    expect(first.svids[0]!.spiffe_id).toBe(A_WEB);
    const bCa = Buffer.concat(
      b.server.ca.bundle().certificatesPem.map((p) => new X509Certificate(p).raw),
    );
    expect(first.federated_bundles['spiffe://b.test']!.equals(bCa)).toBe(true);
    const bundles = (await aWeb.api.fetchX509Bundles().message(1)).bundles;
    expect(Object.keys(bundles).sort()).toEqual([
      'spiffe://a.test',
      'spiffe://b.test',
      'spiffe://h.test',
    ]);
    const fileB = await readFile(path.join(aWeb.out, 'federated', 'b.test.pem'), 'utf8');
    const fileA = await readFile(path.join(bApi.out, 'federated', 'a.test.pem'), 'utf8');
    // B's workload serves with its SVID and requires A's; each trusts only the federated bundle.
    const read = (out: string, file: string) => readFile(path.join(out, file), 'utf8');
    const server = createTlsServer({
      cert: await read(bApi.out, 'svid.pem'),
      key: await read(bApi.out, 'svid-key.pem'),
      ca: fileA,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peerOfServer = new Promise<string | undefined>((resolve) =>
      server.once('secureConnection', (socket) => {
        resolve(socket.getPeerCertificate().subjectaltname);
        socket.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const mutual = await new Promise<string | undefined>((resolve, reject) => {
        void (async () => {
          const socket = connect({
            host: '127.0.0.1',
            port: (server.address() as AddressInfo).port,
            cert: await read(aWeb.out, 'svid.pem'),
            key: await read(aWeb.out, 'svid-key.pem'),
            ca: fileB,
            checkServerIdentity: (_host, cert) =>
              cert.subjectaltname === `URI:${B_API}` ? undefined : new Error(cert.subjectaltname),
          });
          socket.once('secureConnect', () => {
            resolve(socket.getPeerCertificate().subjectaltname);
            socket.end();
          });
          socket.once('error', reject);
        })();
      });
      expect(mutual).toBe(`URI:${B_API}`);
      expect(await peerOfServer).toBe(`URI:${A_WEB}`);
    } finally {
      server.close();
    }
  }, 30_000);

  it("A's sidecar validates a JWT-SVID of B; other audiences and unfederated workloads refuse it", async () => {
    const token = (await bApi.api.fetchJwtSvid({ audience: ['shop-web'] })).svids[0]!.svid;
    const valid = await aWeb.api.validateJwtSvid({ audience: 'shop-web', svid: token });
    expect(valid.spiffe_id).toBe(B_API);
    const other = await failureOf(aWeb.api.validateJwtSvid({ audience: 'ledger', svid: token }));
    expect(other.code).toBe(status.INVALID_ARGUMENT);
    expect(other.details).toMatch(/^ERR_JWTSVID_AUDIENCE_MISMATCH/);
    // B's subjects are validated with B's keys only: neither A's own authority nor a key
    // that borrows the kid of B's authority makes a token for B_API valid at A.
    const forged = async (key: KeyObject, kid: string, alg: string): Promise<string> =>
      new SignJWT({ aud: ['shop-web'] })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setSubject(B_API)
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(key);
    const ownOfA = a.server.jwtAuthorities.signingAuthority();
    const byA = await failureOf(
      aWeb.api.validateJwtSvid({
        audience: 'shop-web',
        // A's authority signs through its signer (its key may be in a PKCS#11 token).
        svid: await signCompactJws(
          ownOfA.signer,
          { alg: ownOfA.alg, kid: ownOfA.kid, typ: 'JWT' },
          JSON.stringify({
            aud: ['shop-web'],
            sub: B_API,
            iat: Math.floor(systemClock.now() / 1000),
            exp: Math.floor(systemClock.now() / 1000) + 120,
          }),
        ),
      }),
    );
    expect(byA.details).toMatch(/^ERR_JWTSVID_AUTHORITY_UNKNOWN/);
    const kidOfB = decodeProtectedHeader(token).kid!;
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const borrowed = await failureOf(
      aWeb.api.validateJwtSvid({
        audience: 'shop-web',
        svid: await forged(stranger, kidOfB, 'ES256'),
      }),
    );
    expect(borrowed.details).toMatch(/^ERR_JWTSVID_SIGNATURE_INVALID/);
    // JWT bundles: A's own and B's (h.test publishes no JWT authority).
    const jwt = (await aWeb.api.fetchJwtBundles().message(1)).bundles;
    expect(Object.keys(jwt).sort()).toEqual(['spiffe://a.test', 'spiffe://b.test']);

    // A workload whose registration does not federate receives nothing and trusts nothing of B.
    const plain = await workload(a, 'plain-0', 'shop', 'plain');
    const message = await plain.api.fetchX509Svid().message(1);
    expect(message.federated_bundles).toEqual({});
    expect(Object.keys((await plain.api.fetchX509Bundles().message(1)).bundles)).toEqual([
      'spiffe://a.test',
    ]);
    // No federated/ files at all (the directory appears with the first federated bundle).
    const files = await readdir(path.join(plain.out, 'federated')).catch(
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)),
    );
    expect(files).toEqual([]);
    const refused = await failureOf(
      plain.api.validateJwtSvid({ audience: 'shop-web', svid: token }),
    );
    expect(refused.details).toMatch(/^ERR_JWTSVID_TRUST_DOMAIN_MISMATCH/);
  }, 30_000);

  it("B rotates its CA; A's workload receives the new bundle within one refresh hint", async () => {
    const hint = (await b.call('GET', '/v1/bundle')).body['spiffe_refresh_hint'] as number;
    expect(hint).toBe(25);
    const bundles = aWeb.api.fetchX509Bundles();
    await bundles.message(1);
    const admin = await b.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: (await readFile(b.server.admin.file, 'utf8')).trim() },
    });
    const rotated = await b.call('POST', '/v1/ca/rotate', {
      headers: { authorization: `Bearer ${admin.body['token'] as string}` },
    });
    expect(rotated.status).toBe(200);
    const started = Date.now();
    const newCa = b.server.ca.bundle().certificatesPem;
    expect(newCa).toHaveLength(2);
    const expected = Buffer.concat(newCa.map((p) => new X509Certificate(p).raw));
    await waitFor(
      "B's new bundle at A's workload",
      () => bundles.messages.some((m) => m.bundles['spiffe://b.test']?.equals(expected)),
      hint * 1000 + 10_000,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(hint * 1000 + 5_000);
    const file = await readFile(path.join(aWeb.out, 'federated', 'b.test.pem'), 'utf8');
    expect(file.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  }, 60_000);

  it('a hostile endpoint is refused (lower sequence, malformed, wrong trust domain, wrong certificate), audited, and the last good bundle stays', async () => {
    const held = path.join(aWeb.out, 'federated', 'h.test.pem');
    const good = await readFile(held, 'utf8');
    expect(new X509Certificate(good).raw.equals(new X509Certificate(h.bundlePem).raw)).toBe(true);
    const c = await createTestPki(systemClock, 'c.test');
    const [h2, h3] = [
      await createTestPki(systemClock, 'h.test'),
      await createTestPki(systemClock, 'h.test'),
    ];
    const cases: [() => void, string][] = [
      [
        () => (hostileAnswer = bundleJson(4, [h2.bundlePem])),
        'ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED',
      ],
      [() => (hostileAnswer = '{"keys": [{"kty":'), 'ERR_FEDERATION_BUNDLE_MALFORMED'],
      [
        () => (hostileAnswer = bundleJson(9, [c.bundlePem])),
        'ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH',
      ],
      [
        () => {
          // A certificate of a Web PKI root A does not trust: not the https_web profile.
          const other = createWebPki('Not Trusted').issueServer({ ips: ['127.0.0.1'] });
          hostile.setSecureContext({ cert: other.certPem, key: other.keyPem });
          hostileAnswer = bundleJson(10, [h3.bundlePem]);
        },
        'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED',
      ],
    ];
    for (const [serve, code] of cases) {
      const before = (await refusals(a)).length;
      serve();
      const rows = await waitFor(`${code} audited`, async () => {
        const all = await refusals(a);
        return all.length > before ? all : undefined;
      });
      expect(rows!.at(-1)).toEqual({ target: `h.test ${hostileUrl}`, reason: code });
      const kept = await a.server.db.query<{ sequence: string }>(
        "SELECT sequence FROM federated_bundles WHERE trust_domain = 'h.test'",
      );
      expect(Number(kept.rows[0]!.sequence)).toBe(5);
      expect(await readFile(held, 'utf8')).toBe(good);
    }
    const metrics = await a.call('GET', '/metrics');
    expect(metrics.body.text).toMatch(
      /hallmark_federation_refresh_errors_total\{trust_domain="h.test",code="ERR_FEDERATION_BUNDLE_MALFORMED"\} [1-9]/,
    );
  }, 90_000);
});
