// The bundle endpoint client against real TLS servers on 127.0.0.1: both profiles accepted
// when the certificate fits, refused (with the code an operator reads) when it does not.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { bundleEndpointUrlReason, fetchBundleDocument } from '../../src/federation/index.js';
import { createTestPki, type TestPki } from '../sidecar/test-pki.js';
import { createWebPki, type WebPki } from './web-pki.js';
import { codeOf } from '../helpers/error-code.js';

type Handler = (path: string) => { status: number; body?: string | Buffer; location?: string };

const servers: Server[] = [];

async function serve(cert: string, key: string, handler: Handler): Promise<string> {
  const server = createServer({ cert, key, minVersion: 'TLSv1.2' }, (req, res) => {
    const answer = handler(req.url ?? '/');
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      ...(answer.location ? { location: answer.location } : {}),
    });
    res.end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const BODY = '{"keys":[]}';
let web: WebPki;
let b: TestPki;
let webUrl: string;
let spiffeUrl: string;

beforeAll(async () => {
  web = createWebPki();
  b = await createTestPki(systemClock, 'b.test');
  const webCert = web.issueServer();
  webUrl = await serve(webCert.certPem, webCert.keyPem, (path) =>
    path === '/big'
      ? { status: 200, body: 'x'.repeat(2_000_000) }
      : path === '/gone'
        ? { status: 404 }
        : path === '/hop'
          ? { status: 302, location: '/bundle' }
          : path === '/plain'
            ? { status: 307, location: 'http://127.0.0.1:1/bundle' }
            : path === '/latin1'
              ? { status: 200, body: Buffer.from([0xff, 0xfe]) }
              : { status: 200, body: BODY },
  );
  spiffeUrl = await serve(b.serverCertPem, b.serverKeyPem, () => ({ status: 200, body: BODY }));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const webProfile = () => ({ kind: 'https_web' as const, extraRootsPem: [web.rootPem] });
const spiffeProfile = (id = 'spiffe://b.test/hallmark/server', roots = [b.bundlePem]) => ({
  kind: 'https_spiffe' as const,
  endpointSpiffeId: id,
  authoritiesPem: roots,
});

describe('fetching a bundle endpoint', () => {
  it('https_web: a certificate of a trusted Web PKI root for the URL host', async () => {
    const body = await fetchBundleDocument({
      url: `${webUrl}/bundle`,
      profile: webProfile(),
      clock: systemClock,
    });
    expect(body).toBe(BODY);
    // Followed redirects keep the same checks.
    expect(
      await fetchBundleDocument({
        url: `${webUrl}/hop`,
        profile: webProfile(),
        clock: systemClock,
      }),
    ).toBe(BODY);
  });

  it('https_web: an unknown root, or a certificate for another host, is refused', async () => {
    const other = createWebPki('Someone Else');
    expect(
      await codeOf(
        fetchBundleDocument({
          url: `${webUrl}/bundle`,
          profile: { kind: 'https_web', extraRootsPem: [other.rootPem] },
          clock: systemClock,
        }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED');
    const wrongHost = web.issueServer({ dns: ['bundles.example.com'] });
    const url = await serve(wrongHost.certPem, wrongHost.keyPem, () => ({
      status: 200,
      body: BODY,
    }));
    expect(
      await codeOf(fetchBundleDocument({ url, profile: webProfile(), clock: systemClock })),
    ).toBe('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED');
    // A SPIFFE endpoint is not a Web PKI one (the profile cannot be guessed, §7.2).
    expect(
      await codeOf(
        fetchBundleDocument({ url: spiffeUrl, profile: webProfile(), clock: systemClock }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED');
  });

  it('https_spiffe: an X509-SVID of the peer bundle with exactly the pinned SPIFFE ID', async () => {
    expect(
      await fetchBundleDocument({ url: spiffeUrl, profile: spiffeProfile(), clock: systemClock }),
    ).toBe(BODY);
    for (const profile of [
      spiffeProfile('spiffe://b.test/somebody-else'),
      spiffeProfile('spiffe://a.test/hallmark/server'),
      spiffeProfile('spiffe://b.test/hallmark/server', [
        (await createTestPki(systemClock, 'b.test')).bundlePem,
      ]),
    ]) {
      expect(
        await codeOf(fetchBundleDocument({ url: spiffeUrl, profile, clock: systemClock })),
      ).toBe('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED');
    }
    // A Web PKI certificate is not an X509-SVID, even under a root the profile trusts.
    expect(
      await codeOf(
        fetchBundleDocument({
          url: `${webUrl}/bundle`,
          profile: spiffeProfile('spiffe://b.test/hallmark/server', [web.rootPem]),
          clock: systemClock,
        }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED');
  });

  it('refuses other statuses, redirects off https, bodies too large or not UTF-8, dead ports', async () => {
    const fetchPath = (path: string) =>
      codeOf(
        fetchBundleDocument({ url: `${webUrl}${path}`, profile: webProfile(), clock: systemClock }),
      );
    expect(await fetchPath('/gone')).toBe('ERR_FEDERATION_ENDPOINT_UNREACHABLE');
    expect(await fetchPath('/plain')).toBe('ERR_FEDERATION_ENDPOINT_UNREACHABLE');
    expect(await fetchPath('/big')).toBe('ERR_FEDERATION_BUNDLE_MALFORMED');
    expect(await fetchPath('/latin1')).toBe('ERR_FEDERATION_BUNDLE_MALFORMED');
    expect(
      await codeOf(
        fetchBundleDocument({
          url: 'https://127.0.0.1:1/',
          profile: webProfile(),
          clock: systemClock,
        }),
      ),
    ).toBe('ERR_FEDERATION_ENDPOINT_UNREACHABLE');
  });

  it('knows a bundle endpoint URL when it sees one', () => {
    expect(bundleEndpointUrlReason('https://b.example:8443/v1/bundle')).toBeUndefined();
    expect(bundleEndpointUrlReason('http://b.example/v1/bundle')).toMatch(/https/);
    expect(bundleEndpointUrlReason('https://me:pw@b.example/')).toMatch(/user/);
    expect(bundleEndpointUrlReason('https://b.example/#x')).toMatch(/fragment/);
    expect(bundleEndpointUrlReason('not a url')).toMatch(/URL/);
  });
});
