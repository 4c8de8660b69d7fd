// Test doubles of the v1 routes other modules own (authn, svid, policy, audit, bundle), for client tests.
import type { TLSSocket } from 'node:tls';
import type { HallmarkApp } from '../../src/http/index.js';
import type { TestRoutes } from '../secrets/helpers/secret-test-app.js';

/** What the doubles saw, so tests can check the client sent the right request. */
export interface SeenRequests {
  last:
    { method: string; url: string; headers: Record<string, unknown>; body: unknown } | undefined;
  /** Resolves hanging requests (the timeout test) so the server can close. */
  releaseHanging: () => void;
}

const json = (
  reply: { code(n: number): { type(t: string): { send(b: unknown): unknown } } },
  status: number,
  body: unknown,
): unknown => reply.code(status).type('application/json').send(body);

/**
 * Installs contract-shaped doubles of the routes of docs/http-api.md that this client test does not
 * exercise for real. They check what a real route would check about the request's form (mTLS
 * certificate presented and verified, bearer token, content type) and answer in the contract's
 * shape; `/broken/...` answers malformed bodies, `/hang` never answers until released, `/stall` stops mid-body.
 */
export function apiDoubles(seen: SeenRequests, caPem: string): TestRoutes {
  let hanging: (() => void)[] = [];
  seen.releaseHanging = () => {
    for (const release of hanging) release();
    hanging = [];
  };
  return (app: HallmarkApp) => {
    app.addHook('onRequest', async (request) => {
      seen.last = {
        method: request.method,
        url: request.url,
        headers: { ...request.headers },
        body: undefined,
      };
    });
    app.addHook('preHandler', async (request) => {
      if (seen.last) seen.last.body = request.body;
    });
    app.addContentTypeParser('application/yaml', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );

    app.get('/v1/bundle', async (request, reply) => {
      if (request.headers.accept === 'application/x-pem-file') {
        return reply.type('application/x-pem-file').send(caPem);
      }
      return json(reply, 200, {
        keys: [{ kty: 'EC', use: 'x509-svid', x5c: ['AAAA'] }],
        spiffe_sequence: 7,
        spiffe_refresh_hint: 300,
      });
    });
    app.post('/v1/svid/x509', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer projected-sa-token') {
        return json(reply, 403, {
          error: { code: 'ERR_ATTEST_TOKEN_INVALID', message: 'token was not accepted' },
        });
      }
      return json(reply, 200, {
        spiffe_id: 'spiffe://hallmark.local/ns/payments/sa/api',
        svid: caPem,
        expires_at: '2026-01-01T01:00:00.000Z',
        bundle: caPem,
      });
    });
    const peerSpiffeId = (socket: TLSSocket): string | undefined => {
      if (!socket.authorized) return undefined;
      const san = socket.getPeerCertificate().subjectaltname ?? '';
      return /URI:(spiffe:\/\/[^,\s]+)/.exec(san)?.[1];
    };
    app.post('/v1/authn/login', async (request, reply) => {
      const id = peerSpiffeId(request.raw.socket as TLSSocket);
      if (id === undefined) {
        return json(reply, 401, {
          error: { code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED', message: 'client certificate required' },
        });
      }
      return json(reply, 200, { token: `token-for:${id}`, expires_at: '2026-01-01T00:08:00.000Z' });
    });
    app.post('/v1/svid/jwt', async (request, reply) => {
      const id = peerSpiffeId(request.raw.socket as TLSSocket);
      if (id === undefined) {
        return json(reply, 401, {
          error: { code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED', message: 'client certificate required' },
        });
      }
      return json(reply, 200, {
        spiffe_id: id,
        token: 'jwt-svid',
        expires_at: '2026-01-01T00:05:00.000Z',
      });
    });
    app.post<{ Body: { id?: string; api_key?: string } }>(
      '/v1/authn/apikey',
      async (request, reply) => {
        if (request.body.id !== 'admin' || request.body.api_key !== 'hmk_test-admin-key') {
          return json(reply, 401, {
            error: { code: 'ERR_AUTHN_API_KEY_INVALID', message: 'API key not accepted' },
          });
        }
        return json(reply, 200, { token: 'admin-token', expires_at: '2026-01-01T00:08:00.000Z' });
      },
    );
    const admin = (authorization: string | undefined): boolean =>
      authorization === 'Bearer admin-token';
    app.put('/v1/policy', async (request, reply) => {
      if (!admin(request.headers.authorization)) {
        return json(reply, 403, {
          error: { code: 'ERR_AUTHN_NOT_ADMIN', message: 'admin access required' },
        });
      }
      return json(reply, 200, { version: 3, sha256: 'ab'.repeat(32) });
    });
    app.get('/v1/policy', async (request, reply) => {
      if (!admin(request.headers.authorization)) {
        return json(reply, 403, {
          error: { code: 'ERR_AUTHN_NOT_ADMIN', message: 'admin access required' },
        });
      }
      return json(reply, 200, { version: 3, sha256: 'ab'.repeat(32), document: 'grants: []\n' });
    });
    app.get<{ Querystring: { after?: string; limit?: string } }>(
      '/v1/audit',
      async (request, reply) => {
        const after = Number(request.query.after ?? 0);
        const count = Math.min(2, Number(request.query.limit ?? 500));
        const events = Array.from({ length: count }, (_, i) => ({
          seq: after + i + 1,
          time: '2026-01-01T00:00:00.000Z',
          actor: 'key:admin',
          action: 'secret.read',
          target: 'payments/db@v1',
          outcome: 'success',
          reason: '',
          request_id: `r${i}`,
          prev_hash: '0'.repeat(64),
          hash: '1'.repeat(64),
        }));
        return json(reply, 200, { events, next: after + count });
      },
    );
    app.get('/broken/v1/audit', async (_request, reply) =>
      json(reply, 200, { events: [{ seq: 1, action: 3 }], next: 1 }),
    );
    app.get('/broken/v1/bundle', async (_request, reply) =>
      json(reply, 200, { keys: 'nope', spiffe_sequence: 1, spiffe_refresh_hint: 1 }),
    );
    app.post('/broken/v1/authn/apikey', async (_request, reply) =>
      reply.code(200).type('application/json').send('{"token": '),
    );
    app.post('/broken/v1/secrets/batch', async (_request, reply) =>
      json(reply, 200, { secrets: { 'payments/other': 'x' } }),
    );
    app.get('/broken/v1/policy', async (_request, reply) =>
      reply.code(502).type('text/html').send('<h1>Bad gateway</h1>'),
    );
    app.get('/hang/v1/bundle', () => new Promise<void>((resolve) => hanging.push(resolve)));
    // Headers and the start of a body, then nothing until released.
    app.get('/stall/v1/bundle', (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'application/json' });
      reply.raw.write('{"keys":[');
      hanging.push(() => reply.raw.end(']}'));
    });
  };
}
