// The client SVID of a real mutual-TLS connection: what `verifiedClientSvid` reads off the socket.
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifiedClientSvid } from '../../src/authn/index.js';
import { SvidValidationCache } from '../../src/authn/svid-validation-cache.js';
import { systemClock } from '../../src/clock/index.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { ManualClock } from '../doubles/manual-clock.js';
import {
  buildCsr,
  buildIntermediateCa,
  buildSelfSignedCa,
  generateKeyPair,
  issueX509Svid,
  type KeyPair,
} from '../../src/x509/index.js';

const TD = 'hallmark.local';
const ID = `spiffe://${TD}/ns/app/sa/web`;

function pkcs8(keyPair: KeyPair): string {
  return keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** An upstream root (the only trust anchor), Hallmark's intermediate under it, and a leaf. */
async function upstreamChain() {
  const rootKey = generateKeyPair('ec-p256');
  const rootPem = await buildSelfSignedCa({
    trustDomain: TD,
    keyPair: rootKey,
    ttlSeconds: 3600,
    clock: systemClock,
    subjectCommonName: 'Upstream Root',
  });
  const caKey = generateKeyPair('ec-p256');
  const intermediatePem = await buildIntermediateCa({
    trustDomain: TD,
    keyPair: caKey,
    upstream: { certificatePem: rootPem, privateKey: rootKey.privateKey, chainPem: [] },
    ttlSeconds: 1800,
    clock: systemClock,
  });
  const leafKey = generateKeyPair('ec-p256');
  const svid = await issueX509Svid({
    csrPem: buildCsr(leafKey),
    spiffeId: parseSpiffeId(ID),
    ttlSeconds: 600,
    authority: { certificatePem: intermediatePem, privateKey: caKey.privateKey, chainPem: [] },
    clock: systemClock,
  });
  return { rootPem, intermediatePem, leafPem: svid.certificatePem, leafKey };
}

describe('verifiedClientSvid on a real mutual-TLS socket', async () => {
  const chain = await upstreamChain();
  let server: ReturnType<typeof createServer>;
  let port = 0;
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    server = createServer({
      // The server's own identity does not matter here; the leaf serves as it.
      key: pkcs8(chain.leafKey),
      cert: chain.leafPem,
      ca: [chain.rootPem],
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

  async function serverSideOf(clientCert: string | undefined): Promise<TLSSocket> {
    const before = sockets.length;
    const client = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(clientCert === undefined ? {} : { cert: clientCert, key: pkcs8(chain.leafKey) }),
    });
    client.on('error', () => undefined);
    await once(client, 'secureConnect');
    for (let i = 0; i < 200 && sockets.length === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    client.end();
    return sockets[before] as TLSSocket;
  }

  /** The SVID of `socket` checked against a bundle that holds only the upstream root. */
  const checkedAgainstRoot = (socket: TLSSocket) =>
    verifiedClientSvid(socket, {
      bundle: () => [chain.rootPem],
      trustDomain: TD,
      clock: systemClock,
    });

  it('follows the presented intermediate up to a bundle that holds only the upstream root', async () => {
    const socket = await serverSideOf(chain.leafPem + chain.intermediatePem);
    const svid = checkedAgainstRoot(socket);
    expect(svid.spiffeId.toString()).toBe(ID);
  });

  it('refuses the leaf alone: without the intermediate there is no path to the root', async () => {
    const socket = await serverSideOf(chain.leafPem);
    expect(() => checkedAgainstRoot(socket)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTHN_CLIENT_CERT_INVALID' }),
    );
  });

  it('asks for a certificate when none was presented', async () => {
    const socket = await serverSideOf(undefined);
    expect(() => checkedAgainstRoot(socket)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED' }),
    );
  });

  describe("on a kept-alive connection, with the service's cache", () => {
    it('checks each request against the bundle of that moment', async () => {
      const otherRoot = await buildSelfSignedCa({
        trustDomain: TD,
        keyPair: generateKeyPair('ec-p256'),
        ttlSeconds: 3600,
        clock: systemClock,
        subjectCommonName: 'Other Root',
      });
      let bundle = [chain.rootPem];
      const context = {
        bundle: () => [...bundle],
        trustDomain: TD,
        clock: systemClock,
        cache: new SvidValidationCache(),
      };
      const socket = await serverSideOf(chain.leafPem + chain.intermediatePem);
      expect(verifiedClientSvid(socket, context).spiffeId.toString()).toBe(ID);
      bundle = [otherRoot];
      expect(() => verifiedClientSvid(socket, context)).toThrow(
        expect.objectContaining({ code: 'ERR_AUTHN_CLIENT_CERT_INVALID' }),
      );
      bundle = [chain.rootPem];
      expect(verifiedClientSvid(socket, context).spiffeId.toString()).toBe(ID);
    });

    it('refuses the SVID once it has expired', async () => {
      const clock = new ManualClock(Date.now());
      const context = {
        bundle: () => [chain.rootPem],
        trustDomain: TD,
        clock,
        cache: new SvidValidationCache(),
      };
      const socket = await serverSideOf(chain.leafPem + chain.intermediatePem);
      expect(verifiedClientSvid(socket, context).spiffeId.toString()).toBe(ID);
      clock.advance(601_000);
      expect(() => verifiedClientSvid(socket, context)).toThrow(
        expect.objectContaining({ code: 'ERR_AUTHN_CLIENT_CERT_INVALID' }),
      );
    });

    it('reads the chain off the connection once', async () => {
      const context = {
        bundle: () => [chain.rootPem],
        trustDomain: TD,
        clock: systemClock,
        cache: new SvidValidationCache(),
      };
      const socket = await serverSideOf(chain.leafPem + chain.intermediatePem);
      const read = vi.spyOn(socket, 'getPeerX509Certificate');
      for (let i = 0; i < 3; i++) verifiedClientSvid(socket, context);
      expect(read).toHaveBeenCalledTimes(1);
    });

    it("does not lend one connection's result to another", async () => {
      const context = {
        bundle: () => [chain.rootPem],
        trustDomain: TD,
        clock: systemClock,
        cache: new SvidValidationCache(),
      };
      const withPath = await serverSideOf(chain.leafPem + chain.intermediatePem);
      expect(verifiedClientSvid(withPath, context).spiffeId.toString()).toBe(ID);
      const leafAlone = await serverSideOf(chain.leafPem);
      expect(() => verifiedClientSvid(leafAlone, context)).toThrow(
        expect.objectContaining({ code: 'ERR_AUTHN_CLIENT_CERT_INVALID' }),
      );
    });
  });
});
