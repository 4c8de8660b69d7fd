// A fastify HTTPS server with no Hallmark route in it, run in its own process by `npm run bench`:
// what a route costs on this machine before it does any work of its own, and with only the work
// a login or a batch read cannot skip: the durable audit row every decision needs (on its own
// embedded PostgreSQL), plus the access token's ES256 signature, or the ten AES-GCM opens.
// Prints one JSON line ({url, bundlePem}), serves until SIGTERM.
import { createSecretKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import { PgAuditLog, type AuditAction } from '../../src/audit/index.js';
import { systemClock } from '../../src/clock/index.js';
import { open, seal } from '../../src/crypto/index.js';
import { Database, MIGRATIONS, migrate, startEmbeddedPostgres } from '../../src/db/index.js';
import { secretAad } from '../../src/secrets/index.js';
import { prepareDataDir } from '../../src/server/data-dir.js';
import { generateKeyPair } from '../../src/x509/index.js';
import { benchTls } from './bench-tls.js';

/** What the bench learns from this process. */
export interface RouteFloorServerInfo {
  url: string;
  bundlePem: string;
}

const tls = await benchTls('spiffe://bench.local/hallmark/server');
const signingKey = generateKeyPair('ec-p256').privateKey;

const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-floor-'));
await prepareDataDir(dir);
const cluster = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
const db = new Database(cluster.url);
await migrate(db, MIGRATIONS);
const audit = new PgAuditLog(db, systemClock);

const WORKLOAD = 'spiffe://bench.local/ns/bench/sa/app';

/** The audit row of a decision, committed before the answer. */
async function auditRow(
  request: FastifyRequest,
  action: AuditAction,
  target: string,
): Promise<void> {
  await audit.append({
    actor: WORKLOAD,
    action,
    target,
    outcome: 'success',
    reason: '',
    requestId: request.id,
  });
}

/** An access-token-shaped ES256 JWT (src/authn/access-token-issuer.ts: same header and claims). */
async function accessToken(): Promise<{ token: string; expires_at: string }> {
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ role: 'workload', pod_namespace: 'bench', pod_name: 'app-1' })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
    .setIssuer('https://127.0.0.1')
    .setSubject(WORKLOAD)
    .setAudience('hallmark')
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 480)
    .setJti(randomUUID())
    .sign(signingKey);
  return { token, expires_at: new Date((iat + 480) * 1000).toISOString() };
}

// Ten sealed 32-character values, each under its own data key, as the secret cache holds them.
const sealed = Array.from({ length: 10 }, (_, i) => {
  const path = `bench/secret-${i}`;
  const keyBytes = randomBytes(32);
  const aad = secretAad(path, 1);
  const ciphertext = seal(keyBytes, Buffer.from(randomBytes(24).toString('base64')), aad);
  return { path, key: createSecretKey(keyBytes), aad, ciphertext };
});
const batchTarget = sealed.map((s) => `${s.path}@v1`).join(',');

const app = Fastify({ https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' } });
app.post('/noop', async () => ({ secrets: {} }));
app.post('/login-floor', async (request) => {
  const answer = await accessToken();
  await auditRow(request, 'authn.login', WORKLOAD);
  return answer;
});
app.post('/batch-floor', async (request) => {
  const secrets: Record<string, string> = {};
  for (const s of sealed) secrets[s.path] = open(s.key, s.ciphertext, s.aad).toString('utf8');
  await auditRow(request, 'secret.read', batchTarget);
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
