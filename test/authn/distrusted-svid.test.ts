// SVIDs of a distrusted CA: refused by chain and by issuance record, whatever the caches remember.
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessTokenIssuer,
  PodPresenceCache,
  cachedIssuedCertificates,
  distrustedIssuerOf,
  loginWorkload,
  verifiedClientSvid,
  type DistrustedIssuer,
  type IssuedCertificateRecord,
} from '../../src/authn/index.js';
import { SvidValidationCache } from '../../src/authn/svid-validation-cache.js';
import { systemClock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildIntermediateCa,
  buildSelfSignedCa,
  generateKeyPair,
  issueX509Svid,
  type KeyPair,
  type VerifiedX509Svid,
} from '../../src/x509/index.js';
import { MemoryKeys, MemoryPods, runningPod, testKey } from '../fixtures/authn/memory-keys.js';
import { ManualClock } from '../doubles/manual-clock.js';

const TD = 'hallmark.local';
const ID = `spiffe://${TD}/ns/payments/sa/api`;

function pkcs8(keyPair: KeyPair): string {
  return keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** An operator's root, two Hallmark intermediates under it, and a leaf from the first. */
async function upstreamPki() {
  const rootKey = generateKeyPair('ec-p256');
  const rootPem = await buildSelfSignedCa({
    trustDomain: TD,
    keyPair: rootKey,
    ttlSeconds: 3600,
    clock: systemClock,
    subjectCommonName: 'Operator Root',
  });
  const upstream = { certificatePem: rootPem, privateKey: rootKey.privateKey, chainPem: [] };
  const intermediate = async () => {
    const keyPair = generateKeyPair('ec-p256');
    const certificatePem = await buildIntermediateCa({
      trustDomain: TD,
      keyPair,
      upstream,
      ttlSeconds: 1800,
      clock: systemClock,
    });
    return { certificatePem, privateKey: keyPair.privateKey, chainPem: [] };
  };
  const first = await intermediate();
  const second = await intermediate();
  const leafKey = generateKeyPair('ec-p256');
  const leaf = await issueX509Svid({
    csrPem: buildCsr(leafKey),
    spiffeId: parseSpiffeId(ID),
    ttlSeconds: 600,
    authority: first,
    clock: systemClock,
  });
  return { rootPem, first, second, leafPem: leaf.certificatePem, leafKey };
}

describe('distrustedIssuerOf', async () => {
  const pki = await upstreamPki();
  const issuer = (id: number, pem: string): DistrustedIssuer => ({
    id,
    certificate: new X509Certificate(pem),
  });

  it('finds the distrusted CA that signed a certificate of the chain, or is one of them', () => {
    const leaf = new X509Certificate(pki.leafPem);
    const first = new X509Certificate(pki.first.certificatePem);
    expect(distrustedIssuerOf([leaf], [issuer(1, pki.first.certificatePem)])?.id).toBe(1);
    expect(distrustedIssuerOf([leaf, first], [issuer(2, pki.rootPem)])?.id).toBe(2);
    expect(distrustedIssuerOf([first], [issuer(1, pki.first.certificatePem)])?.id).toBe(1);
  });

  it('finds nothing for a CA that did not sign the chain', () => {
    const leaf = new X509Certificate(pki.leafPem);
    expect(distrustedIssuerOf([leaf], [issuer(3, pki.second.certificatePem)])).toBeUndefined();
    expect(distrustedIssuerOf([leaf], [])).toBeUndefined();
  });
});

describe('login by issuance record', () => {
  it('refuses an SVID whose record names a distrusted CA, though the record was cached before', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const record: IssuedCertificateRecord = {
      serial: '0a1b2c',
      spiffeId: ID,
      caId: 7,
      publicKeyFingerprint: 'f'.repeat(64),
      namespace: 'payments',
      serviceAccount: 'api',
      podName: 'api-0',
      podUid: 'uid-1',
    };
    const svid: VerifiedX509Svid = {
      spiffeId: parseSpiffeId(ID),
      serialHex: '0a1b2c',
      notBefore: new Date(clock.now() - 10_000),
      notAfter: new Date(clock.now() + 3_600_000),
      publicKeyFingerprint: 'f'.repeat(64),
      pathLength: 2,
      pathNotBefore: new Date(0),
      pathNotAfter: new Date(8_640_000_000_000_000),
    };
    const pods = new MemoryPods();
    pods.set('payments', 'api-0', runningPod('uid-1', {}));
    const keys = new MemoryKeys();
    await keys.add(await testKey());
    let distrusted: DistrustedIssuer[] = [];
    const deps = {
      certificates: cachedIssuedCertificates({ findBySerial: async () => record }),
      pods: new PodPresenceCache(pods, clock),
      registrationCheck: () => true,
      tokens: new AccessTokenIssuer(keys, clock, { issuer: 'https://h', ttlMs: 480_000 }),
      distrusted: () => distrusted,
    };
    await loginWorkload(deps, svid);
    const pki = await upstreamPki();
    distrusted = [{ id: 8, certificate: new X509Certificate(pki.second.certificatePem) }];
    await loginWorkload(deps, svid);
    distrusted = [{ id: 7, certificate: new X509Certificate(pki.first.certificatePem) }];
    await expect(loginWorkload(deps, svid)).rejects.toMatchObject({
      code: 'ERR_AUTHN_CA_DISTRUSTED',
    });
  });
});

describe('verifiedClientSvid with a distrusted CA', async () => {
  const pki = await upstreamPki();
  let server: ReturnType<typeof createServer>;
  let port = 0;
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    server = createServer({
      key: pkcs8(pki.leafKey),
      cert: pki.leafPem,
      ca: [pki.rootPem],
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });

  async function serverSide(): Promise<TLSSocket> {
    const before = sockets.length;
    const client = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      cert: pki.leafPem + pki.first.certificatePem,
      key: pkcs8(pki.leafKey),
    });
    client.on('error', () => undefined);
    await once(client, 'secureConnect');
    for (let i = 0; i < 200 && sockets.length === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    client.end();
    return sockets[before] as TLSSocket;
  }

  it('refuses it even when the validation cache already holds the chain against an unchanged bundle', async () => {
    const cache = new SvidValidationCache();
    let distrusted: DistrustedIssuer[] = [];
    const context = {
      bundle: () => [pki.rootPem],
      trustDomain: TD,
      clock: systemClock,
      cache,
      distrusted: () => distrusted,
    };
    const socket = await serverSide();
    expect(socket.authorized).toBe(true);
    expect(verifiedClientSvid(socket, context).spiffeId.toString()).toBe(ID);
    distrusted = [{ id: 4, certificate: new X509Certificate(pki.first.certificatePem) }];
    expect(() => verifiedClientSvid(socket, context)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTHN_CA_DISTRUSTED' }),
    );
  });
});
