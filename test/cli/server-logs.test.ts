// What `npm start` prints: readable lines on a terminal, JSON lines in a pipe (a container), and
// health probes only at debug. The real CLI, under a pseudo-terminal made by script(1).
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, tempDataDir } from '../helpers/cli-process.js';
import { createEmptyDatabase } from '../helpers/database.js';

const BIN = new URL('../../bin/hallmark.js', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * Runs `hallmark server` (on a terminal when `tty`), probes it three times, asks one route
 * that does not exist, stops it, and returns everything it printed, colours removed.
 */
async function serverOutput(tty: boolean, env: Record<string, string> = {}): Promise<string> {
  const dataDir = await tempDataDir();
  dirs.push(dataDir);
  const command = `${process.execPath} ${BIN} server`;
  const child = spawn(
    tty ? 'script' : process.execPath,
    tty ? ['-qfec', command, '/dev/null'] : [BIN, 'server'],
    {
      env: childEnv({
        HALLMARK_DATA_DIR: dataDir,
        HALLMARK_LISTEN: '127.0.0.1:0',
        DATABASE_URL: await createEmptyDatabase(),
        ...env,
      }),
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (url === undefined) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start:\n${out}`);
      url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const agent = new Agent({
      connect: { ca: await readFile(path.join(dataDir, 'bundle.pem'), 'utf8') },
    });
    try {
      for (const route of ['/healthz', '/readyz', '/metrics', '/v1/no-such-route']) {
        const response = await request(`${url}${route}`, { dispatcher: agent });
        await response.body.text();
      }
    } finally {
      await agent.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the last lines out
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  // eslint-disable-next-line no-control-regex
  return out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
}

const PROBES = ['/healthz', '/readyz', '/metrics'];
// A request line as pino-pretty prints it (the CLI's own start-up hint names /readyz too).
const PROBE_URL = /"url": "\/(healthz|readyz|metrics)"/;

const jsonLines = (out: string) =>
  out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(
      (line) =>
        JSON.parse(line) as {
          level: number;
          msg: string;
          req?: { url?: string };
          res?: { statusCode?: number };
        },
    );

describe('server logs', () => {
  it('on a terminal: readable lines, no JSON, probes not at info', async () => {
    const out = await serverOutput(true);
    // One line per request at info: the completed one, which names the request too.
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request completed$/m);
    expect(out).not.toMatch(/INFO: incoming request/);
    expect(out).toMatch(/"url": "\/v1\/no-such-route"/);
    expect(jsonLines(out)).toEqual([]);
    expect(out).not.toMatch(PROBE_URL);
  }, 90_000);

  it('in a pipe, as in a container: JSON lines, probes not at info', async () => {
    const out = await serverOutput(false);
    const lines = jsonLines(out);
    const asked = lines.filter((l) => l.req?.url === '/v1/no-such-route');
    // One info line for the request, with its status: "incoming request" is at debug only.
    expect(asked.map((l) => [l.msg, l.level, l.res?.statusCode])).toEqual([
      ['request completed', 30, 404],
    ]);
    expect(lines.filter((l) => PROBES.includes(l.req?.url ?? ''))).toEqual([]);
  }, 90_000);

  it('HALLMARK_LOG_FORMAT=json keeps JSON on a terminal; at debug the probes are there', async () => {
    const out = await serverOutput(true, {
      HALLMARK_LOG_FORMAT: 'json',
      HALLMARK_LOG_LEVEL: 'debug',
    });
    const lines = jsonLines(out);
    expect(lines.length).toBeGreaterThan(0);
    const probes = lines.filter((l) => PROBES.includes(l.req?.url ?? ''));
    // Both lines of each probe, at debug.
    expect(probes.map((l) => l.msg).sort()).toEqual([
      ...Array<string>(3).fill('incoming request'),
      ...Array<string>(3).fill('request completed'),
    ]);
    expect(probes.every((l) => l.level === 20)).toBe(true);
  }, 90_000);

  it('HALLMARK_LOG_FORMAT=pretty is readable in a pipe too', async () => {
    const out = await serverOutput(false, { HALLMARK_LOG_FORMAT: 'pretty' });
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: request completed$/m);
    expect(jsonLines(out)).toEqual([]);
  }, 90_000);
});
