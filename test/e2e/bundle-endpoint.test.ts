// This trust domain's SPIFFE bundle endpoint as a peer sees it: the document conforms to the
// Trust Domain and Bundle spec, and is served under https_spiffe (the server's SVID) and
// https_web (an operator's Web PKI certificate, on its own listener).
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { loadServerConfig } from '../../src/config/index.js';
import { fetchBundleDocument } from '../../src/federation/index.js';
import { parseSpiffeBundle } from '../../src/spiffe/index.js';
import { startServer } from '../../src/server/index.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';
import { createWebPki, type WebPki } from '../federation/web-pki.js';

const SERVER_ID = 'spiffe://hallmark.local/hallmark/server';
let dir: string;
let web: WebPki;
const stacks: HallmarkStack[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bundle-endpoint-'));
  web = createWebPki();
});
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function stack(env: Record<string, string> = {}): Promise<HallmarkStack> {
  const started = await startStack({ env });
  stacks.push(started);
  return started;
}

/** Writes a Web PKI certificate for `names` and returns the variables that configure it. */
async function webCertificate(
  name: string,
  names?: { dns?: string[]; ips?: string[] },
): Promise<Record<string, string>> {
  const issued = web.issueServer(names);
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await writeFile(cert, issued.certPem);
  await writeFile(key, issued.keyPem);
  return { HALLMARK_FEDERATION_TLS_CERT: cert, HALLMARK_FEDERATION_TLS_KEY: key };
}

describe('the SPIFFE bundle endpoint', () => {
  it('serves a conforming bundle at GET /v1/bundle under https_spiffe; the sequence moves with every change', async () => {
    const s = await stack();
    const served = await s.call('GET', '/v1/bundle');
    expect(served.status).toBe(200);
    const keys = served.body['keys'] as Record<string, unknown>[];
    // Trust Domain and Bundle §4.1: spiffe_sequence and spiffe_refresh_hint as integers.
    expect(Number.isSafeInteger(served.body['spiffe_sequence'])).toBe(true);
    expect(Number.isSafeInteger(served.body['spiffe_refresh_hint'])).toBe(true);
    for (const key of keys) {
      if (key['use'] === 'x509-svid') {
        // X509-SVID §6.1: exactly one CA certificate in x5c, no kid, its key's members.
        expect(Object.keys(key).sort()).toEqual(['crv', 'kty', 'use', 'x', 'x5c', 'y']);
        const x5c = key['x5c'] as string[];
        expect(x5c).toHaveLength(1);
        const cert = new X509Certificate(Buffer.from(x5c[0]!, 'base64'));
        expect(cert.ca).toBe(true);
        expect(cert.subjectAltName).toBe('URI:spiffe://hallmark.local');
      } else {
        // JWT-SVID §6.1: use jwt-svid and a kid.
        expect(key['use']).toBe('jwt-svid');
        expect(Object.keys(key).sort()).toEqual(['crv', 'kid', 'kty', 'use', 'x', 'y']);
      }
    }
    expect(keys.filter((k) => k['use'] === 'jwt-svid').length).toBeGreaterThan(0);
    // A peer's strict reading, over the https_spiffe profile (the server's own SVID).
    const bundlePem = s.server.ca.bundle().certificatesPem;
    const text = await fetchBundleDocument({
      url: `${s.server.url}/v1/bundle`,
      profile: { kind: 'https_spiffe', endpointSpiffeId: SERVER_ID, authoritiesPem: bundlePem },
      clock: systemClock,
    });
    const parsed = parseSpiffeBundle(text);
    expect(parsed.sequence).toBe(served.body['spiffe_sequence']);

    await s.server.ca.rotate({ wait: true, actor: 'test', force: true });
    await s.server.jwtAuthorities.rotate({ wait: true, actor: 'test' });
    const after = await s.call('GET', '/v1/bundle');
    expect(after.body['spiffe_sequence'] as number).toBeGreaterThan(parsed.sequence!);
    expect((after.body['keys'] as unknown[]).length).toBeGreaterThan(keys.length);
  });

  it('serves only the bundle on HALLMARK_FEDERATION_LISTEN, under the Web PKI certificate (https_web)', async () => {
    const s = await stack({
      HALLMARK_FEDERATION_LISTEN: '127.0.0.1:0',
      ...(await webCertificate('listener')),
    });
    const port = s.server.federationPort!;
    const url = `https://127.0.0.1:${port}/v1/bundle`;
    const text = await fetchBundleDocument({
      url,
      profile: { kind: 'https_web', extraRootsPem: [web.rootPem] },
      clock: systemClock,
    });
    expect(JSON.parse(text)).toEqual((await s.call('GET', '/v1/bundle')).body);
    // Nothing else: not the API, not health or metrics.
    for (const other of ['/v1/policy', '/healthz', '/metrics', '/v1/bundle/federated', '/']) {
      await expect(
        fetchBundleDocument({
          url: `https://127.0.0.1:${port}${other}`,
          profile: { kind: 'https_web', extraRootsPem: [web.rootPem] },
          clock: systemClock,
        }),
      ).rejects.toMatchObject({ code: 'ERR_FEDERATION_ENDPOINT_UNREACHABLE' });
    }
    // The SVID is not presented there, so a peer pinning https_spiffe is refused.
    await expect(
      fetchBundleDocument({
        url,
        profile: {
          kind: 'https_spiffe',
          endpointSpiffeId: SERVER_ID,
          authoritiesPem: s.server.ca.bundle().certificatesPem,
        },
        clock: systemClock,
      }),
    ).rejects.toMatchObject({ code: 'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED' });
  });

  it('serves the bundle on HALLMARK_FEDERATION_LISTEN under the SVID without a Web PKI certificate', async () => {
    const s = await stack({ HALLMARK_FEDERATION_LISTEN: '127.0.0.1:0' });
    const text = await fetchBundleDocument({
      url: `https://127.0.0.1:${s.server.federationPort}/v1/bundle`,
      profile: {
        kind: 'https_spiffe',
        endpointSpiffeId: SERVER_ID,
        authoritiesPem: s.server.ca.bundle().certificatesPem,
      },
      clock: systemClock,
    });
    expect(parseSpiffeBundle(text).x509Authorities.length).toBeGreaterThan(0);
  });

  it('gives federated bundles only to a workload presenting its SVID (refusals audited)', async () => {
    const s = await stack();
    const answer = await s.call('GET', '/v1/bundle/federated');
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('ERR_AUTHN_CLIENT_CERT_REQUIRED');
    const rows = await s.server.db.query<{ action: string; target: string; reason: string }>(
      "SELECT action, target, reason FROM audit_log WHERE target = '/v1/bundle/federated'",
    );
    expect(rows.rows).toEqual([
      {
        action: 'http.get',
        target: '/v1/bundle/federated',
        reason: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
      },
    ]);
  });

  it('refuses to start with a key that is not the certificate key, or a missing file', async () => {
    const good = await webCertificate('good');
    const other = await webCertificate('other');
    const start = async (env: Record<string, string>) =>
      startServer(
        loadServerConfig({
          env: {
            HALLMARK_DATA_DIR: await mkdtemp(path.join(dir, 'data-')),
            HALLMARK_LISTEN: '127.0.0.1:0',
            HALLMARK_MASTER_KEY: randomBytes(32).toString('base64'),
            HALLMARK_LOG_LEVEL: 'silent',
            DATABASE_URL: await createEmptyDatabase(),
            ...env,
          },
        }),
      );
    await expect(
      start({
        HALLMARK_FEDERATION_LISTEN: '127.0.0.1:0',
        HALLMARK_FEDERATION_TLS_CERT: good['HALLMARK_FEDERATION_TLS_CERT']!,
        HALLMARK_FEDERATION_TLS_KEY: other['HALLMARK_FEDERATION_TLS_KEY']!,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      variable: 'HALLMARK_FEDERATION_TLS_KEY',
    });
    await expect(
      start({
        HALLMARK_FEDERATION_LISTEN: '127.0.0.1:0',
        HALLMARK_FEDERATION_TLS_CERT: path.join(dir, 'missing.crt'),
        HALLMARK_FEDERATION_TLS_KEY: other['HALLMARK_FEDERATION_TLS_KEY']!,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      variable: 'HALLMARK_FEDERATION_TLS_CERT',
    });
  });
});
