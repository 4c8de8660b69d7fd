// A fastify HTTPS server with no Hallmark route in it, run in its own process by `npm run bench`:
// what a route costs on this machine before it does any work of its own, with the one signature
// a login cannot avoid, and with the one durable audit row every decision needs (on its own
// embedded PostgreSQL). Prints one JSON line ({url, bundlePem}), serves until SIGTERM.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { PgAuditLog } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { Database, MIGRATIONS, migrate, startEmbeddedPostgres } from '../../src/db/index.js';
import { prepareDataDir } from '../../src/server/data-dir.js';
import { generateKeyPair } from '../../src/x509/index.js';
import { benchTls } from './bench-tls.js';

/** What the bench learns from this process. */
export interface RouteFloorServerInfo {
  url: string;
  bundlePem: string;
}

const tls = benchTls('spiffe://bench.local/hallmark/server');
const signingKey = generateKeyPair('ec-p256').privateKey;

const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-floor-'));
await prepareDataDir(dir);
const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
const db = new Database(cluster.url);
await migrate(db, MIGRATIONS);
const audit = new PgAuditLog(db, systemClock);

const app = Fastify({
  https: {
    key: tls.key,
    cert: tls.cert,
    minVersion: 'TLSv1.2',
  },
});
// A login-sized answer: an ES256 access token is about this long.
const placeholder = { token: 'x'.repeat(640), expires_at: new Date(0).toISOString() };
app.post('/noop', async () => placeholder);
// The same header and claims as an access token (src/authn/access-token-issuer.ts).
app.post('/jwt', async () => {
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: 'workload', pod_namespace: 'bench', pod_name: 'app-1' })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
    .setIssuer('https://127.0.0.1')
    .setSubject('spiffe://bench.local/ns/bench/sa/app')
    .setAudience('hallmark')
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 480)
    .setJti(randomUUID())
    .sign(signingKey);
  return { token, expires_at: new Date((iat + 480) * 1000).toISOString() };
});
// A batch-sized answer (ten 32-character values), after the batch's audit row is committed.
const secrets = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`bench/secret-${i}`, 'v'.repeat(32)]),
);
app.post('/audited', async (request) => {
  await audit.append({
    actor: 'spiffe://bench.local/ns/bench/sa/app',
    action: 'secret.read',
    target: Object.keys(secrets)
      .map((p) => `${p}@v1`)
      .join(','),
    outcome: 'success',
    reason: '',
    requestId: request.id,
  });
  return { secrets };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as { port: number };
const info: RouteFloorServerInfo = { url: `https://127.0.0.1:${port}`, bundlePem: tls.bundlePem };
process.stdout.write(`${JSON.stringify(info)}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await db.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  })();
});
