// HallmarkClient against a real HTTPS server on 127.0.0.1: every v1 route, TLS trust, mTLS, errors.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HallmarkClient, HallmarkClientError } from '../../src/client/index.js';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { HallmarkApp } from '../../src/http/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { buildSecretApp } from '../secrets/helpers/secret-test-app.js';
import { makeTestTls, type TestTls } from '../secrets/helpers/test-tls.js';
import { apiDoubles, type SeenRequests } from './api-doubles.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { MemorySecretStore } from '../doubles/memory-secret-store.js';

async function failure(promise: Promise<unknown>): Promise<HallmarkClientError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HallmarkClientError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('HallmarkClient', () => {
  let tls: TestTls;
  let app: HallmarkApp;
  let url: string;
  let store: MemorySecretStore;
  const audit = new MemoryAuditLog(systemClock);
  const seen: SeenRequests = { last: undefined, releaseHanging: () => undefined };
  const clients: HallmarkClient[] = [];
  const client = (options: Partial<ConstructorParameters<typeof HallmarkClient>[0]> = {}) => {
    const made = new HallmarkClient({ url, ca: tls.caPem, timeoutMs: 5_000, ...options });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    tls = makeTestTls();
    store = new MemorySecretStore({ master: new MasterKey(randomBytes(32)), clock: systemClock });
    app = await buildSecretApp({ tls, store, audit, extraRoutes: [apiDoubles(seen, tls.caPem)] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await store.put(parseSecretPath('payments/db-password'), 'db-v1', 'key:admin');
    await store.put(parseSecretPath('payments/db-password'), 'db-v2', 'key:admin');
    await store.put(parseSecretPath('payments/api/key'), 'api-key-value', 'key:admin');
    await store.put(parseSecretPath('billing/db-password'), 'billing-value', 'key:admin');
  });

  afterAll(async () => {
    seen.releaseHanging();
    await Promise.all(clients.map((c) => c.close()));
    await app.close();
  });

  describe('secrets', () => {
    it('reads the newest and an old version', async () => {
      const api = client({ token: () => 'api-token' });
      expect(await api.getSecret('payments/db-password')).toEqual({
        path: 'payments/db-password',
        version: 2,
        value: 'db-v2',
      });
      expect((await api.getSecret('payments/db-password', 1)).value).toBe('db-v1');
    });

    it('reads a batch as a map of exactly the paths asked', async () => {
      const api = client({ token: async () => 'api-token' });
      const secrets = await api.getSecrets([
        'payments/api/key',
        'payments/db-password',
        'payments/api/key',
      ]);
      expect([...secrets]).toEqual([
        ['payments/api/key', 'api-key-value'],
        ['payments/db-password', 'db-v2'],
      ]);
    });

    it('writes a version and reads it back', async () => {
      const admin = client({ token: () => 'admin-token' });
      expect(await admin.putSecret('apps/new', 'fresh \u{1F511}')).toEqual({
        path: 'apps/new',
        version: 1,
      });
      expect((await admin.getSecret('apps/new')).value).toBe('fresh \u{1F511}');
    });

    it('maps refusals to the server code, status and named path', async () => {
      const api = client({ token: () => 'api-token' });
      const denied = await failure(api.getSecrets(['payments/api/key', 'billing/db-password']));
      expect([denied.code, denied.status, denied.path]).toEqual([
        'ERR_POLICY_DENIED',
        403,
        'billing/db-password',
      ]);
      expect(denied.message).not.toContain('api-key-value');
      const missing = await failure(api.getSecret('payments/none'));
      expect([missing.code, missing.status, missing.path]).toEqual([
        'ERR_SECRET_NOT_FOUND',
        404,
        'payments/none',
      ]);
      const write = await failure(api.putSecret('payments/db-password', 'x'));
      expect([write.code, write.status]).toEqual(['ERR_POLICY_DENIED', 403]);
      const anonymous = await failure(client().getSecret('payments/api/key'));
      expect(anonymous.code).toBe('ERR_CLIENT_TOKEN_UNAVAILABLE');
      const forged = await failure(client({ token: () => 'forged' }).getSecret('payments/api/key'));
      expect([forged.code, forged.status]).toEqual(['ERR_AUTHN_TOKEN_INVALID', 401]);
    });

    it('sends bad paths as written (no normalisation), so the server refuses them', async () => {
      const admin = client({ token: () => 'admin-token' });
      for (const path of [
        'payments/../billing/db-password',
        'payments/./api/key',
        'payments//api/key',
      ]) {
        const err = await failure(admin.getSecret(path));
        expect([err.code, err.path]).toEqual(['ERR_SECRET_BAD_PATH', path]);
      }
      const query = await failure(admin.getSecret('payments/db-password?version=1'));
      expect(query.code).toBe('ERR_SECRET_BAD_PATH');
      const unicode = await failure(admin.putSecret('payments\u2215x', 'v'));
      expect(unicode.code).toBe('ERR_SECRET_BAD_PATH');
      expect(await store.count()).toMatchObject({ paths: 4 });
    });

    it('refuses a token that would break the header', async () => {
      const err = await failure(
        client({ token: () => 'a\r\nx-injected: 1' }).getSecret('payments/api/key'),
      );
      expect(err.code).toBe('ERR_CLIENT_TOKEN_UNAVAILABLE');
    });
  });

  describe('other routes (contract-shaped doubles)', () => {
    it('reads the bundle as JWKS and as PEM', async () => {
      const anon = client();
      expect(await anon.bundle()).toEqual({
        keys: [{ kty: 'EC', use: 'x509-svid', x5c: ['AAAA'] }],
        sequence: 7,
        refreshHint: 300,
      });
      expect(await anon.bundlePem()).toBe(tls.caPem);
    });

    it('sends the projected token and the CSR for an X509-SVID', async () => {
      const svid = await client().issueX509Svid('projected-sa-token', 'CSR PEM');
      expect(svid.spiffeId).toBe('spiffe://hallmark.local/ns/payments/sa/api');
      expect(svid.expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
      expect(seen.last?.headers['authorization']).toBe('Bearer projected-sa-token');
      expect(seen.last?.body).toEqual({ csr: 'CSR PEM' });
      const refused = await failure(client().issueX509Svid('other', 'CSR PEM'));
      expect([refused.code, refused.status]).toEqual(['ERR_ATTEST_TOKEN_INVALID', 403]);
    });

    it('logs in over mutual TLS with the client certificate, and is refused without it', async () => {
      const mtls = client({ cert: tls.clientCertPem, key: tls.clientKeyPem });
      const token = await mtls.login();
      expect(token.token).toBe('token-for:spiffe://hallmark.local/ns/payments/sa/api');
      expect(token.expiresAt.toISOString()).toBe('2026-01-01T00:08:00.000Z');
      expect((await mtls.issueJwtSvid(['db'])).spiffeId).toBe(
        'spiffe://hallmark.local/ns/payments/sa/api',
      );
      expect(seen.last?.body).toEqual({ audience: ['db'] });
      const plain = await failure(client().login());
      expect([plain.code, plain.status]).toEqual(['ERR_AUTHN_CLIENT_CERT_REQUIRED', 401]);
    });

    it('logs in with an API key', async () => {
      const token = await client().loginWithApiKey('admin', 'hmk_test-admin-key');
      expect(token.token).toBe('admin-token');
      expect(seen.last?.body).toEqual({ id: 'admin', api_key: 'hmk_test-admin-key' });
      const wrong = await failure(client().loginWithApiKey('admin', 'hmk_wrong'));
      expect(wrong.code).toBe('ERR_AUTHN_API_KEY_INVALID');
    });

    it('loads and reads the policy as YAML, and pages the audit log', async () => {
      const admin = client({ token: () => 'admin-token' });
      expect(await admin.putPolicy('grants: []\n')).toEqual({
        version: 3,
        sha256: 'ab'.repeat(32),
      });
      expect(seen.last?.headers['content-type']).toBe('application/yaml');
      expect(seen.last?.body).toBe('grants: []\n');
      expect(await admin.getPolicy()).toMatchObject({ version: 3, document: 'grants: []\n' });
      const page = await admin.auditEvents(41);
      expect(seen.last?.url).toBe('/v1/audit?after=41');
      expect(page.events.map((e) => e.seq)).toEqual([42, 43]);
      expect(page.events[0]).toMatchObject({ action: 'secret.read', request_id: 'r0' });
      expect(page.next).toBe(43);
      const one = await admin.auditEvents(43, 1);
      expect(seen.last?.url).toBe('/v1/audit?after=43&limit=1');
      expect([one.events.length, one.next]).toEqual([1, 44]);
      const notAdmin = await failure(client({ token: () => 'api-token' }).getPolicy());
      expect([notAdmin.code, notAdmin.status]).toEqual(['ERR_AUTHN_NOT_ADMIN', 403]);
    });
  });

  describe('failures without a usable answer', () => {
    it('refuses malformed answers as ERR_CLIENT_BAD_RESPONSE', async () => {
      const broken = client({ url: `${url}/broken`, token: () => 'admin-token' });
      expect((await failure(broken.bundle())).code).toBe('ERR_CLIENT_BAD_RESPONSE');
      expect((await failure(broken.loginWithApiKey('a', 'b'))).code).toBe(
        'ERR_CLIENT_BAD_RESPONSE',
      );
      expect((await failure(broken.auditEvents(0))).code).toBe('ERR_CLIENT_BAD_RESPONSE');
      expect((await failure(broken.getSecrets(['payments/api/key']))).code).toBe(
        'ERR_CLIENT_BAD_RESPONSE',
      );
      const gateway = await failure(broken.getPolicy());
      expect([gateway.code, gateway.status]).toEqual(['ERR_CLIENT_HTTP_STATUS', 502]);
    });

    it('does not trust a server signed by another CA', async () => {
      const err = await failure(client({ ca: tls.otherCaPem }).bundle());
      expect(err.code).toBe('ERR_CLIENT_TLS');
    });

    it('reports a closed port as unreachable', async () => {
      const port = await new Promise<number>((resolve) => {
        const server = net.createServer();
        server.listen(0, '127.0.0.1', () => {
          const { port: free } = server.address() as AddressInfo;
          server.close(() => resolve(free));
        });
      });
      const err = await failure(client({ url: `https://127.0.0.1:${port}` }).bundle());
      expect(err.code).toBe('ERR_CLIENT_UNREACHABLE');
    });

    it('gives up on a server that never answers', async () => {
      const err = await failure(client({ url: `${url}/hang`, timeoutMs: 300 }).bundle());
      expect(err.code).toBe('ERR_CLIENT_TIMEOUT');
    });

    it('gives up on an answer that stops mid-body', async () => {
      const err = await failure(client({ url: `${url}/stall`, timeoutMs: 300 }).bundle());
      expect(err.code).toBe('ERR_CLIENT_TIMEOUT');
    });

    it('refuses an answer larger than maxResponseBytes, reading no further', async () => {
      const err = await failure(client({ maxResponseBytes: 64 }).bundle());
      expect([err.code, err.message]).toEqual(['ERR_CLIENT_BAD_RESPONSE', 'response too large']);
      // The same route answers a client with the default limit.
      expect((await client().bundle()).keys.length).toBeGreaterThan(0);
    });

    it('refuses a plain-http URL', () => {
      expect(() => new HallmarkClient({ url: 'http://127.0.0.1:1', ca: tls.caPem })).toThrow(
        HallmarkClientError,
      );
    });
  });
});
