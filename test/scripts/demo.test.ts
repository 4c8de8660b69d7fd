import { execFileSync, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/cli-process.js';

describe('npm run demo', () => {
  it('tells the whole story, exits 0 and leaves no process or temp dir behind', async () => {
    const before = new Set(
      (await readdir(os.tmpdir())).filter((d) => d.startsWith('hallmark-demo-')),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('../../scripts/demo.ts', import.meta.url).pathname],
      {
        env: childEnv({}),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toContain('connected with secret of length 28');
    expect(output).toMatch(/spiffe:\/\/hallmark\.local\/ns\/demo\/sa\/demo-app/);
    expect(output).toMatch(/billing\/db-password.*ERR_POLICY_DENIED.*command not started/);
    expect(output).toMatch(/audit chain intact/);
    expect(output).not.toContain('correct horse battery staple');
    expect(code).toBe(0);

    const after = (await readdir(os.tmpdir())).filter(
      (d) => d.startsWith('hallmark-demo-') && !before.has(d),
    );
    expect(after).toEqual([]);
    const dir = /removed/.test(output)
      ? (/cleaned up \(processes stopped, (\S+) removed\)/.exec(output)?.[1] ?? '')
      : '';
    expect(dir).not.toBe('');
    const processes = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((line) => line.includes(dir));
    expect(processes).toEqual([]);
  }, 180_000);
});
