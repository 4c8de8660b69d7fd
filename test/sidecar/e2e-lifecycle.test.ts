// End to end with the real server and the test Kubernetes API: files, modes, openssl, login,
// a granted secret, renewal on schedule under a 1 kHz reader, token rotation, --once.
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { sidecarCommand } from '../../src/cli/sidecar-command.js';
import {
  CERTIFICATES_PEM,
  COMPACT_JWT,
  PRIVATE_KEY_PEM,
  startPollingReader,
} from './polling-reader.js';
import { WORKLOAD, startSidecarStack } from './sidecar-stack.js';
import type { SidecarStack } from './sidecar-stack.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
const BACKDATE_MS = 10_000;

let env: SidecarStack;

beforeAll(async () => {
  env = await startSidecarStack({ HALLMARK_SVID_TTL: '40s', HALLMARK_TOKEN_TTL: '20s' });
});

afterAll(async () => {
  // Also fails if the server made any Kubernetes call outside deploy/rbac.yaml.
  await env?.close();
});

const FILES = ['access-token', 'bundle.pem', 'svid-key.pem', 'svid.pem'];
const modeOf = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function io(environment: Record<string, string>): CliIo & { errLines: string[] } {
  const errLines: string[] = [];
  return {
    errLines,
    out: () => undefined,
    err: (l) => errLines.push(l),
    env: environment,
    stdin: new PassThrough(),
  };
}

describe('sidecar against the real server', () => {
  it('writes the four files with their modes; the SVID verifies with openssl; the token reads a granted secret', async () => {
    const out = path.join(env.dir, 'start');
    const sidecar = await env.startSidecar({ outputDir: out });
    await waitFor('ready', () => sidecar.handle.phase === 'ready');
    expect((await readdir(out)).sort()).toEqual(FILES);
    expect(await modeOf(path.join(out, 'svid-key.pem'))).toBe(0o600);
    expect(await modeOf(path.join(out, 'access-token'))).toBe(0o640);

    const { stdout } = await run('openssl', [
      'verify',
      '-CAfile',
      path.join(out, 'bundle.pem'),
      '-untrusted',
      path.join(out, 'svid.pem'),
      path.join(out, 'svid.pem'),
    ]);
    expect(stdout.trim()).toBe(`${path.join(out, 'svid.pem')}: OK`);
    const leaf = new X509Certificate(await readFile(path.join(out, 'svid.pem')));
    expect(leaf.subjectAltName).toBe(`URI:${WORKLOAD.spiffeId}`);
    expect(
      leaf.checkPrivateKey(createPrivateKey(await readFile(path.join(out, 'svid-key.pem')))),
    ).toBe(true);

    const token = await readFile(path.join(out, 'access-token'), 'utf8');
    expect(claimsOf(token).sub).toBe(WORKLOAD.spiffeId);
    const bootstrap = env.stack.server.admin;
    const adminKey = bootstrap.created
      ? bootstrap.key
      : (await readFile(bootstrap.file, 'utf8')).trim();
    const admin = await env.stack.call('POST', '/v1/authn/apikey', {
      body: { id: 'admin', api_key: adminKey },
    });
    expect(admin.status).toBe(200);
    const put = await env.stack.call('PUT', '/v1/secrets/payments/db-password', {
      body: { value: 'correct horse battery staple' },
      headers: { authorization: `Bearer ${String(admin.body.token)}` },
    });
    expect(put.status).toBe(200);
    const read = await env.stack.call('GET', '/v1/secrets/payments/db-password', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read).toMatchObject({ status: 200, body: { value: 'correct horse battery staple' } });

    const health = await fetch(`${sidecar.handle.health!.url}/healthz`);
    expect(health.status).toBe(200);
    await sidecar.handle.stop();
  });

  it('renews on schedule without a reader ever seeing a partial file, using the rotated projected token', async () => {
    // The kubelet's current token is about to expire; the sidecar attests with it once.
    await env.writeProjectedToken(8);
    const firstProjected = await readFile(env.tokenPath, 'utf8');
    const out = path.join(env.dir, 'schedule');
    const sidecar = await env.startSidecar({ outputDir: out });
    await waitFor('ready', () => sidecar.handle.phase === 'ready');
    const svidPath = path.join(out, 'svid.pem');
    const tokenPath = path.join(out, 'access-token');
    const firstSvid = await readFile(svidPath, 'utf8');
    const firstToken = await readFile(tokenPath, 'utf8');
    // The kubelet rotates the projected token on disk; the sidecar must read the new one.
    await env.writeProjectedToken(600);

    const reader = startPollingReader([
      { path: svidPath, pattern: CERTIFICATES_PEM },
      { path: path.join(out, 'svid-key.pem'), pattern: PRIVATE_KEY_PEM },
      { path: path.join(out, 'bundle.pem'), pattern: CERTIFICATES_PEM },
      { path: tokenPath, pattern: COMPACT_JWT },
    ]);
    let report;
    try {
      await waitFor(
        'SVID renewal',
        async () => (await readFile(svidPath, 'utf8')) !== firstSvid,
        45_000,
      );
      await waitFor(
        'token renewal',
        async () => (await readFile(tokenPath, 'utf8')) !== firstToken,
        30_000,
      );
    } finally {
      report = await reader.stop();
    }
    expect({ bad: report.bad, firstBad: report.firstBad }).toEqual({ bad: 0, firstBad: '' });
    expect(report.reads).toBeGreaterThan(1000);
    expect(report.versions[svidPath]).toBeGreaterThanOrEqual(2);
    expect(report.versions[tokenPath]).toBeGreaterThanOrEqual(2);
    expect(sidecar.attempts.filter((a) => a.error !== undefined)).toEqual([]);

    const first = new X509Certificate(firstSvid);
    const second = new X509Certificate(await readFile(svidPath, 'utf8'));
    const issuedFirst = Date.parse(first.validFrom) + BACKDATE_MS;
    const issuedSecond = Date.parse(second.validFrom) + BACKDATE_MS;
    const lifetime = Date.parse(first.validTo) - issuedFirst;
    // Renewed at half-life (±10 % jitter, whole-second certificate times), before expiry.
    expect(issuedSecond - issuedFirst).toBeGreaterThanOrEqual(0.45 * lifetime - 1000);
    expect(issuedSecond).toBeLessThan(Date.parse(first.validTo));
    // The first projected token had expired by then, so the renewal attested with the new one.
    expect(issuedSecond).toBeGreaterThan(Number(claimsOf(firstProjected).exp) * 1000);
    const key = createPrivateKey(await readFile(path.join(out, 'svid-key.pem')));
    expect(second.checkPrivateKey(key)).toBe(true);
    await sidecar.handle.stop();
  });

  it('--once exits 0 with the files written, and 1 with one line when attestation is refused', async () => {
    const base = {
      HALLMARK_SERVER_URL: env.config.serverUrl,
      HALLMARK_SERVER_BUNDLE: env.config.serverBundlePath as string,
      HALLMARK_TOKEN_PATH: env.tokenPath,
      HALLMARK_HEALTH_LISTEN: '127.0.0.1:0',
    };
    const ok = io({ ...base, HALLMARK_OUTPUT_DIR: path.join(env.dir, 'once') });
    expect(await sidecarCommand.run(['--once'], ok)).toBe(0);
    expect((await readdir(path.join(env.dir, 'once'))).sort()).toEqual(FILES);

    // A pod no registration selects: the server refuses (default deny).
    env.stack.k8s.addPod({ namespace: 'shop', name: 'web-1', serviceAccountName: 'web' });
    const strangerToken = path.join(env.dir, 'stranger-token');
    await writeFile(
      strangerToken,
      await env.stack.k8s.issueToken({ namespace: 'shop', podName: 'web-1' }),
    );
    const refused = io({
      ...base,
      HALLMARK_TOKEN_PATH: strangerToken,
      HALLMARK_OUTPUT_DIR: path.join(env.dir, 'refused'),
    });
    expect(await sidecarCommand.run(['--once'], refused)).toBe(1);
    expect(refused.errLines).toHaveLength(1);
    expect(refused.errLines[0]).toMatch(/^hallmark sidecar: ERR_POLICY_NO_REGISTRATION: /);
    expect(await readdir(path.join(env.dir, 'refused'))).toEqual([]);
  });
});
