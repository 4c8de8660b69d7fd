import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { Database, MIGRATIONS } from '../../src/db/index.js';
import { runCli, startCli, tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';

function captureIo(env: Record<string, string>): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), env, stdin: process.stdin },
    out,
    err,
  };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function getReady(url: string, bundleFile: string): Promise<number> {
  const agent = new Agent({ connect: { ca: await readFile(bundleFile, 'utf8') } });
  try {
    const response = await request(`${url}/readyz`, { dispatcher: agent });
    await response.body.text();
    return response.statusCode;
  } finally {
    await agent.close();
  }
}

describe('hallmark server', () => {
  it('starts on embedded PostgreSQL, prints URL and admin key once, and reuses both on restart', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const env = { HALLMARK_DATA_DIR: dataDir, HALLMARK_LISTEN: '127.0.0.1:0' };

    const first = startCli(['server'], env);
    const [, url] = await first.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/);
    const [, key] = await first.waitFor(/admin API key:\s+(hmk_[A-Za-z0-9_-]{43})/);
    expect(await getReady(url as string, path.join(dataDir, 'bundle.pem'))).toBe(200);
    expect((await readFile(path.join(dataDir, 'admin.key'), 'utf8')).trim()).toBe(key);
    expect(await first.stop()).toBe(0);

    const second = startCli(['server'], env);
    const [, url2] = await second.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/);
    await second.waitFor(/admin API key:\s+created on first start/);
    expect(second.stdout()).not.toContain('hmk_');
    expect(await getReady(url2 as string, path.join(dataDir, 'bundle.pem'))).toBe(200);
    expect(await second.stop()).toBe(0);

    // With the server down, audit verify starts the embedded cluster itself.
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/audit chain intact: \d+ rows/);
  });

  it('uses DATABASE_URL instead of the embedded cluster, and two servers migrate it once', async () => {
    const dataDirs = [await tempDataDir(), await tempDataDir()];
    dirs.push(...dataDirs);
    const url = await createEmptyDatabase();
    const servers = dataDirs.map((dir) =>
      startCli(['server'], {
        HALLMARK_DATA_DIR: dir,
        HALLMARK_LISTEN: '127.0.0.1:0',
        DATABASE_URL: url,
        HALLMARK_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
      }),
    );
    try {
      const urls = await Promise.all(
        servers.map((s) => s.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/)),
      );
      for (const [i, match] of urls.entries()) {
        expect(servers[i]?.stdout()).toContain('DATABASE_URL');
        expect(
          await getReady(match[1] as string, path.join(dataDirs[i] as string, 'bundle.pem')),
        ).toBe(200);
      }
      // Exactly one of the two created (and printed) the admin key.
      expect(servers.filter((s) => /admin API key:\s+hmk_/.test(s.stdout()))).toHaveLength(1);
      const db = new Database(url, { max: 1 });
      const rows = await db.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.rows.map((r) => r.version)).toEqual(
        MIGRATIONS.map((m) => m.version).sort((a, b) => a - b),
      );
      expect(
        Number(
          (
            await db.query<{ n: string }>(
              "SELECT count(*) AS n FROM ca_authorities WHERE status = 'active'",
            )
          ).rows[0]?.n,
        ),
      ).toBe(1);
      await db.close();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  });

  it('exits 2 with one line naming the variable (real process)', async () => {
    const result = await runCli(['server'], { HALLMARK_LISTEN: 'nonsense' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('HALLMARK_LISTEN')]);
  });

  it.each([
    [{ HALLMARK_MASTER_KEY: 'c2hvcnQ=' }, [], 'HALLMARK_MASTER_KEY'],
    [{ HALLMARK_TRUST_DOMAIN: 'Bad Domain' }, [], 'HALLMARK_TRUST_DOMAIN'],
    [{ HALLMARK_LISTN: '127.0.0.1:1' }, [], 'HALLMARK_LISTN'],
    [{}, ['--svid-ttl', '2d'], 'HALLMARK_SVID_TTL'],
    [{ HALLMARK_PKCS11_PIN: '1234' }, [], 'HALLMARK_PKCS11_PIN'],
    [{ HALLMARK_PKCS11_TOKEN: 't' }, [], 'HALLMARK_PKCS11_MODULE'],
    [
      {},
      ['--pkcs11-module', '/m.so', '--pkcs11-token', 't', '--pkcs11-pin-file', '/nonexistent/pin'],
      'HALLMARK_PKCS11_PIN_FILE',
    ],
    [{ HALLMARK_PREAUTH_RATE: '0' }, [], 'HALLMARK_PREAUTH_RATE'],
    [{ HALLMARK_TOKENREVIEW_CONCURRENCY: 'lots' }, [], 'HALLMARK_TOKENREVIEW_CONCURRENCY'],
    [{ HALLMARK_WORKERS: '0' }, [], 'HALLMARK_WORKERS'],
    [{}, ['--workers', 'all'], 'HALLMARK_WORKERS'],
  ])('exits 2 with one line naming the variable for %o %o', async (env, args, variable) => {
    const { io, out, err } = captureIo(env);
    expect(await main(['server', ...args], io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([expect.stringContaining(variable)]);
  });

  it('exits 2 naming HALLMARK_PKCS11_MODULE when the PKCS#11 library cannot be loaded', async () => {
    const dir = await tempDataDir();
    dirs.push(dir);
    const pinFile = path.join(dir, 'pin');
    await writeFile(pinFile, '1234\n', { mode: 0o600 });
    const { io, out, err } = captureIo({
      HALLMARK_DATA_DIR: dir,
      HALLMARK_PKCS11_MODULE: path.join(dir, 'no-such-module.so'),
      HALLMARK_PKCS11_TOKEN: 't',
      HALLMARK_PKCS11_PIN_FILE: pinFile,
    });
    expect(await main(['server'], io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([expect.stringContaining('HALLMARK_PKCS11_MODULE')]);
    expect(err.join('')).not.toContain('1234');
  });

  it('prints help for the command and for the CLI', async () => {
    const { io, out } = captureIo({});
    expect(await main(['server', '--help'], io)).toBe(0);
    expect(out.join('\n')).toContain('hallmark server');
    expect(await main(['--help'], io)).toBe(0);
    expect(await main(['no-such-command'], io)).toBe(2);
  });
});
