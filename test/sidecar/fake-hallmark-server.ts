// A scripted stand-in for the Hallmark server's two sidecar routes, over real HTTPS and mTLS on
// 127.0.0.1, for unit tests of the HTTPS adapter (end-to-end tests use the real server).
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { systemClock } from '../../src/clock/index.js';
import { issueTestSvid } from './test-pki.js';
import type { TestPki } from './test-pki.js';

/** A request the fake server received. */
export interface SeenRequest {
  readonly route: string;
  readonly authorization: string | undefined;
  /** URI SAN of the client certificate, when one was presented and verified. */
  readonly clientSpiffeId: string | undefined;
}

/** How the next answers go wrong. */
export type FakeBehaviour =
  | { kind: 'normal' }
  | { kind: 'error'; status: number; body: string }
  | { kind: 'wrong-spiffe-id' }
  /** Never answer (the response stays open until the server closes). */
  | { kind: 'hang' };

/** The running fake. */
export interface FakeHallmarkServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  spiffeId: string;
  svidTtlSeconds: number;
  /** `federated_bundles` of the SVID answers (absent: the field is left out, as before). */
  federatedBundles: Record<string, unknown> | undefined;
  behaviour: FakeBehaviour;
  /** Requests left unanswered by `hang` and still open. */
  readonly hanging: Set<ServerResponse>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the fake on 127.0.0.1 with `pki`'s serving certificate; client certs verified against its root. */
export async function startFakeHallmarkServer(pki: TestPki): Promise<FakeHallmarkServer> {
  const state = {
    seen: [] as SeenRequest[],
    spiffeId: 'spiffe://hallmark.local/ns/payments/sa/api',
    svidTtlSeconds: 3600,
    federatedBundles: undefined as Record<string, unknown> | undefined,
    behaviour: { kind: 'normal' } as FakeBehaviour,
    hanging: new Set<ServerResponse>(),
  };
  const server: Server = createServer({
    cert: pki.serverCertPem,
    key: pki.serverKeyPem,
    ca: pki.bundlePem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const body = await readBody(req);
      const socket = req.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      const san = peer?.subjectaltname?.replace(/^URI:/, '');
      const route = `${req.method} ${req.url}`;
      state.seen.push({ route, authorization: req.headers.authorization, clientSpiffeId: san });
      const behaviour = state.behaviour;
      if (behaviour.kind === 'error') return json(res, behaviour.status, behaviour.body);
      if (behaviour.kind === 'hang') {
        state.hanging.add(res);
        res.on('close', () => state.hanging.delete(res));
        return undefined;
      }
      if (route === 'POST /v1/svid/x509') {
        const { csr } = JSON.parse(body) as { csr: string };
        const svid = await issueTestSvid(
          pki,
          csr,
          state.spiffeId,
          state.svidTtlSeconds,
          systemClock,
        );
        return json(res, 200, {
          spiffe_id:
            behaviour.kind === 'wrong-spiffe-id' ? `${state.spiffeId}-other` : state.spiffeId,
          svid: svid.chainPem,
          expires_at: svid.notAfter.toISOString(),
          bundle: pki.bundlePem,
          ...(state.federatedBundles === undefined
            ? {}
            : { federated_bundles: state.federatedBundles }),
        });
      }
      if (route === 'POST /v1/authn/login') {
        if (san === undefined) {
          return json(res, 401, {
            error: {
              code: 'ERR_AUTHN_CLIENT_CERT_REQUIRED',
              message: 'client certificate required',
            },
          });
        }
        return json(res, 200, {
          token: `access-for-${san}`,
          expires_at: new Date(Date.now() + 480_000).toISOString(),
        });
      }
      return json(res, 404, {
        error: { code: 'ERR_REQUEST_NOT_FOUND', message: 'route not found' },
      });
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
