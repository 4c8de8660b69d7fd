import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

describe('admin commands against a running server', () => {
  let stack: HallmarkStack;
  let env: Record<string, string>;
  const file = path.join(os.tmpdir(), `hallmark-policy-${process.pid}.yaml`);

  beforeAll(async () => {
    stack = await startStack();
    env = {
      HALLMARK_SERVER_URL: stack.server.url,
      HALLMARK_SERVER_BUNDLE: stack.server.bundleFile,
      HALLMARK_ADMIN_KEY: (await readFile(stack.server.admin.file, 'utf8')).trim(),
    };
  });
  afterAll(async () => {
    await rm(file, { force: true });
    await stack.close();
  });

  async function run(
    args: string[],
    stdin = '',
  ): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env,
      stdin: Readable.from([stdin]),
    };
    const code = await main(args, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('loads, shows and refuses policy documents', async () => {
    await writeFile(file, 'workloads:\n  - namespace: demo\n    serviceAccount: app\n');
    const loaded = await run(['policy', 'load', file]);
    expect(loaded).toMatchObject({ code: 0 });
    expect(loaded.out).toMatch(/policy version 1 loaded/);
    expect((await run(['policy', 'show'])).out).toContain('namespace: demo');

    await writeFile(file, 'workloads:\n  - namespace: UPPER\n    surprise: 1\n');
    const refused = await run(['policy', 'load', file]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('ERR_POLICY_INVALID');
    expect(refused.err).toMatch(/workloads\[0\]\.namespace/);
    expect(refused.err).toMatch(/workloads\[0\]\.surprise/);
    expect(stack.server.policy.version()).toBe(1);
  });

  it('sets and gets a secret with the value on stdin, never argv', async () => {
    expect((await run(['secret', 'set', 'demo/db'], 's3cret\n')).code).toBe(0);
    expect((await run(['secret', 'get', 'demo/db'])).out).toBe('s3cret');
    expect((await run(['secret', 'set', 'demo/db', 'inline-value'])).code).toBe(2);
  });

  it('rotates the CA at once, and insists on --now', async () => {
    const before = stack.server.ca.signingAuthority().id;
    expect((await run(['ca', 'rotate'])).code).toBe(2);
    const rotated = await run(['ca', 'rotate', '--now']);
    expect(rotated.code).toBe(0);
    expect(stack.server.ca.signingAuthority().id).not.toBe(before);
    expect(stack.server.ca.bundle().certificatesPem.length).toBe(2);
  });

  it('refuses with a wrong admin key and names the code', async () => {
    const saved = env['HALLMARK_ADMIN_KEY'] as string;
    env['HALLMARK_ADMIN_KEY'] = 'hmk_wrong';
    try {
      const result = await run(['policy', 'show']);
      expect(result.code).toBe(1);
      expect(result.err).toContain('ERR_AUTHN_API_KEY_INVALID');
    } finally {
      env['HALLMARK_ADMIN_KEY'] = saved;
    }
  });
});
