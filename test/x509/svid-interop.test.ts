// Interoperability: issued SVIDs pass OpenSSL's strict verifier and a TLS 1.3 mutual-TLS handshake.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import {
  buildCsr,
  buildIntermediateCa,
  generateKeyPair,
  issueServerSvid,
  issueX509Svid,
  type KeyType,
  type SigningAuthority,
} from '../../src/x509/index.js';
import { hasOpenssl, makeRoot, opensslVerify, T0 } from './x509-helpers.js';
import { ManualClock } from '../doubles/manual-clock.js';

const ISSUED_AT = T0 + 60_000;
const CHECK_AT = Math.floor((ISSUED_AT + 5 * 60_000) / 1000);

async function svidFor(
  authority: SigningAuthority,
  leafType: KeyType,
  path = '/ns/payments/sa/api',
  clock = new ManualClock(ISSUED_AT),
) {
  const keyPair = generateKeyPair(leafType);
  const svid = await issueX509Svid({
    csrPem: buildCsr(keyPair),
    spiffeId: parseSpiffeId(`spiffe://hallmark.local${path}`),
    ttlSeconds: 3600,
    authority,
    clock,
  });
  return { keyPair, svid };
}

describe.skipIf(!hasOpenssl)('openssl verify -x509_strict', async () => {
  const caTypes: KeyType[] = ['ec-p256', 'ec-p384', 'rsa-3072', 'ed25519'];
  const leafTypes: KeyType[] = ['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'];
  const roots = new Map(
    await Promise.all(caTypes.map(async (t) => [t, await makeRoot(t)] as const)),
  );

  for (const caType of caTypes) {
    it.each(leafTypes)(
      `accepts a %s SVID from a ${caType} root for sslclient and sslserver`,
      async (leafType) => {
        const root = roots.get(caType)!;
        const { svid } = await svidFor(root, leafType);
        for (const purpose of ['sslclient', 'sslserver'] as const) {
          const result = opensslVerify({
            leafPem: svid.certificatePem,
            rootsPem: [root.certificatePem],
            purpose,
            atSeconds: CHECK_AT,
          });
          expect(result.output).toContain(': OK');
          expect(result.ok).toBe(true);
        }
      },
    );
  }

  it('accepts an SVID chained through an intermediate under an upstream root', async () => {
    const upstream = await makeRoot('rsa-2048', { td: 'corp.example', ttlSeconds: 365 * 86_400 });
    const keyPair = generateKeyPair('ec-p256');
    const intermediate: SigningAuthority = {
      certificatePem: await buildIntermediateCa({
        trustDomain: 'hallmark.local',
        keyPair,
        upstream,
        ttlSeconds: 86_400,
        clock: new ManualClock(T0),
      }),
      privateKey: keyPair.privateKey,
      chainPem: [],
    };
    const { svid } = await svidFor(intermediate, 'ec-p256');
    expect(svid.chainPem).toHaveLength(2);
    expect(svid.chainPem[1]).toBe(intermediate.certificatePem);
    for (const purpose of ['sslclient', 'sslserver'] as const) {
      const result = opensslVerify({
        leafPem: svid.certificatePem,
        rootsPem: [upstream.certificatePem],
        untrustedPem: svid.chainPem.slice(1),
        purpose,
        atSeconds: CHECK_AT,
      });
      expect(result.output).toContain(': OK');
    }
    // without the intermediate there is no path
    const broken = opensslVerify({
      leafPem: svid.certificatePem,
      rootsPem: [upstream.certificatePem],
      purpose: 'sslclient',
      atSeconds: CHECK_AT,
    });
    expect(broken.ok).toBe(false);
  });

  it('rejects an SVID against another trust bundle and after it expires', async () => {
    const root = roots.get('ec-p256')!;
    const { svid } = await svidFor(root, 'ec-p256');
    const stranger = await makeRoot('ec-p256');
    expect(
      opensslVerify({
        leafPem: svid.certificatePem,
        rootsPem: [stranger.certificatePem],
        purpose: 'sslclient',
        atSeconds: CHECK_AT,
      }).ok,
    ).toBe(false);
    const afterExpiry = Math.floor(svid.notAfter.getTime() / 1000) + 1;
    expect(
      opensslVerify({
        leafPem: svid.certificatePem,
        rootsPem: [root.certificatePem],
        purpose: 'sslclient',
        atSeconds: afterExpiry,
      }).ok,
    ).toBe(false);
  });

  it('accepts the server SVID for sslserver', async () => {
    const root = roots.get('ec-p256')!;
    const svid = await issueServerSvid({
      spiffeId: parseSpiffeId('spiffe://hallmark.local/hallmark/server'),
      publicKey: generateKeyPair('ec-p256').publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      ttlSeconds: 86_400,
      authority: root,
      clock: new ManualClock(ISSUED_AT),
    });
    const result = opensslVerify({
      leafPem: svid.certificatePem,
      rootsPem: [root.certificatePem],
      purpose: 'sslserver',
      atSeconds: CHECK_AT,
    });
    expect(result.output).toContain(': OK');
  });
});

describe('TLS 1.3 mutual TLS between two SVIDs on 127.0.0.1', async () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const fn of cleanup.splice(0)) fn();
  });

  // Real sockets check validity against the real time, so these SVIDs use the system clock.
  const root = await makeRoot('ec-p256', { clock: new ManualClock(systemClock.now()) });
  const serverId = 'spiffe://hallmark.local/ns/payments/sa/server';
  const clientId = 'spiffe://hallmark.local/ns/billing/sa/client';
  const server = await svidFor(
    root,
    'ec-p256',
    '/ns/payments/sa/server',
    new ManualClock(systemClock.now()),
  );
  const client = await svidFor(
    root,
    'ec-p256',
    '/ns/billing/sa/client',
    new ManualClock(systemClock.now()),
  );
  const keyPem = (k: typeof server) =>
    k.keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  // SPIFFE authenticates by the URI SAN, not the hostname (X509-SVID §5.2).
  function expectSpiffeId(expected: string) {
    return (_host: string, cert: PeerCertificate): Error | undefined =>
      cert.subjectaltname === `URI:${expected}`
        ? undefined
        : new Error(`unexpected peer ${cert.subjectaltname}`);
  }

  async function handshake(clientCertPem: string, clientKeyPem: string, expectedServer: string) {
    let serverSawPeer: string | undefined;
    const tlsServer = createServer(
      {
        key: keyPem(server),
        cert: server.svid.chainPem.join(''),
        ca: [root.certificatePem],
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      },
      (socket) => {
        serverSawPeer = socket.getPeerCertificate().subjectaltname;
        socket.end('hello');
      },
    );
    tlsServer.on('tlsClientError', () => {});
    cleanup.push(() => tlsServer.close());
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const { port } = tlsServer.address() as AddressInfo;
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      key: clientKeyPem,
      cert: clientCertPem,
      ca: [root.certificatePem],
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      checkServerIdentity: expectSpiffeId(expectedServer),
    });
    cleanup.push(() => socket.destroy());
    const outcome = await new Promise<{ data?: string; error?: Error }>((resolve) => {
      const timer = setTimeout(() => resolve({ error: new Error('handshake timed out') }), 10_000);
      let data = '';
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
      socket.on('end', () => {
        clearTimeout(timer);
        resolve({ data });
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        resolve({ error });
      });
    });
    return { ...outcome, socket, serverSawPeer };
  }

  it('completes with both sides authenticated by SPIFFE ID', async () => {
    const result = await handshake(client.svid.chainPem.join(''), keyPem(client), serverId);
    expect(result.error).toBeUndefined();
    expect(result.data).toBe('hello');
    expect(result.socket.getProtocol()).toBe('TLSv1.3');
    expect(result.socket.authorized).toBe(true);
    expect(result.socket.getPeerCertificate().subjectaltname).toBe(`URI:${serverId}`);
    expect(result.serverSawPeer).toBe(`URI:${clientId}`);
  });

  it('fails when the client expects another SPIFFE ID', async () => {
    const result = await handshake(
      client.svid.chainPem.join(''),
      keyPem(client),
      'spiffe://hallmark.local/ns/x/sa/y',
    );
    expect(result.error?.message).toContain('unexpected peer');
  });

  it('fails when the client SVID comes from another CA', async () => {
    const strangerRoot = await makeRoot('ec-p256', { clock: new ManualClock(systemClock.now()) });
    const stranger = await svidFor(
      strangerRoot,
      'ec-p256',
      '/ns/billing/sa/client',
      new ManualClock(systemClock.now()),
    );
    const result = await handshake(stranger.svid.chainPem.join(''), keyPem(stranger), serverId);
    expect(result.data ?? '').not.toBe('hello');
    expect(result.serverSawPeer).toBeUndefined();
  });

  it('shows one URI SAN in Node’s view of both certificates', () => {
    for (const pem of [server.svid.certificatePem, client.svid.certificatePem]) {
      expect(new X509Certificate(pem).subjectAltName?.split(', ')).toHaveLength(1);
    }
  });
});
