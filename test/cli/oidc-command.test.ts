// `hallmark oidc export DIR` against a running server: both documents written as served.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

const ISSUER = 'https://oidc.example.com/hallmark';

describe('hallmark oidc export', () => {
  let stack: HallmarkStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startStack({ env: { HALLMARK_OIDC_ISSUER: ISSUER } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-oidc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await stack.close();
  });

  async function run(args: string[], env: Record<string, string>) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env,
      stdin: Readable.from(['']),
    };
    const code = await main(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('writes the discovery document and key set exactly as the server serves them', async () => {
    const env = {
      HALLMARK_SERVER_URL: stack.server.url,
      HALLMARK_SERVER_BUNDLE: stack.server.bundleFile,
    };
    const result = await run(['oidc', 'export', dir], env);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain(ISSUER);

    const discovery = await readFile(path.join(dir, '.well-known', 'openid-configuration'), 'utf8');
    const jwks = await readFile(path.join(dir, '.well-known', 'jwks.json'), 'utf8');
    const servedDiscovery = await stack.call('GET', '/.well-known/openid-configuration');
    expect(JSON.parse(discovery)).toEqual(servedDiscovery.body);
    expect(JSON.parse(discovery)).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
    });
    const served = await stack.call('GET', '/.well-known/jwks.json');
    expect(JSON.parse(jwks)).toEqual(served.body);
    const kids = stack.server.jwtAuthorities.authorities().map((a) => a.kid);
    expect((JSON.parse(jwks) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual(kids);
    expect((await stat(path.join(dir, '.well-known', 'jwks.json'))).mode & 0o777).toBe(0o644);
  });

  it('needs DIR, a readable server bundle, and a server with an issuer', async () => {
    expect((await run(['oidc', 'export'], {})).code).toBe(2);
    const missing = await run(['oidc', 'export', dir], {
      HALLMARK_SERVER_URL: stack.server.url,
      HALLMARK_SERVER_BUNDLE: path.join(dir, 'nope.pem'),
    });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('HALLMARK_SERVER_BUNDLE');

    const plain = await startStack();
    try {
      const off = await run(['oidc', 'export', path.join(dir, 'off')], {
        HALLMARK_SERVER_URL: plain.server.url,
        HALLMARK_SERVER_BUNDLE: plain.server.bundleFile,
      });
      expect(off.code).toBe(1);
      expect(off.err).toContain('ERR_REQUEST_NOT_FOUND');
      await expect(stat(path.join(dir, 'off'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await plain.close();
    }
  });
});
