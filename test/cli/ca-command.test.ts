// `hallmark ca list` and `hallmark ca distrust` against a running server, as an operator runs them.
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { startStack, type HallmarkStack } from '../helpers/hallmark-stack.js';

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await condition()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('hallmark ca distrust', () => {
  let stack: HallmarkStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startStack({ caTicker: false });
    env = {
      HALLMARK_SERVER_URL: stack.server.url,
      // The server rewrites this file on every bundle change, as an operator republishes it.
      HALLMARK_SERVER_BUNDLE: stack.server.bundleFile,
      HALLMARK_ADMIN_KEY: (await readFile(stack.server.admin.file, 'utf8')).trim(),
    };
  });
  afterAll(() => stack.close());

  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env,
      stdin: Readable.from(['']),
    };
    const code = await main(['ca', ...args], io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('checks its arguments before calling the server', async () => {
    for (const args of [
      ['distrust'],
      ['distrust', 'abc'],
      ['distrust', '0'],
      ['distrust', '1', '2'],
      ['distrust', '1', '--now'],
      ['list', '--rotate'],
      ['rotate', '--now', '--rotate'],
    ]) {
      expect((await run(args)).code, args.join(' ')).toBe(2);
    }
  });

  it('refuses the signing CA without --rotate and an unknown id, naming the code; then distrusts with --rotate', async () => {
    const active = stack.server.ca.signingAuthority().id;
    const listed = await run(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`^${active}\\tactive\\t`, 'm'));

    const last = await run(['distrust', String(active)]);
    expect(last.code).toBe(1);
    expect(last.err).toContain('ERR_CA_LAST_AUTHORITY');
    const unknown = await run(['distrust', String(active + 50), '--rotate']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('ERR_CA_UNKNOWN_AUTHORITY');
    expect(stack.server.ca.signingAuthority().id).toBe(active);

    const done = await run(['distrust', String(active), '--rotate']);
    expect(done.code).toBe(0);
    const replacement = stack.server.ca.signingAuthority().id;
    expect(replacement).not.toBe(active);
    expect(done.out).toMatch(new RegExp(`^CA distrusted: ${active}; active CA ${replacement}, `));
    // The server rewrites its bundle file just after the change; an operator's next command
    // trusts the new serving certificate through it.
    const newCa = stack.server.ca.authorities().find((ca) => ca.id === replacement)!;
    await until(async () =>
      (await readFile(env.HALLMARK_SERVER_BUNDLE!, 'utf8')).includes(newCa.certificatePem),
    );
    const after = await run(['list']);
    expect(after.err).toBe('');
    expect(after.out).toMatch(new RegExp(`^${active}\\tdistrusted\\t.* distrusted 20`, 'm'));
    expect(after.out).toMatch(new RegExp(`^${replacement}\\tactive\\t`, 'm'));
  });
});
