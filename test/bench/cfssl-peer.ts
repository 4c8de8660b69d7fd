// The bench's peer: CFSSL's `cfssl serve` signing CSRs over HTTPS with a P-256 CA, run under the
// same load as Hallmark's SVID route. Its CA, TLS key and config are made at run time in a
// private temporary directory (cfssl gencert -initca), never kept.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { freeLoopbackPort } from '../../src/db/index.js';
import { stopChild, waitFor } from './bench-process.js';

/** A running `cfssl serve`. */
export interface CfsslPeer {
  /** `https://127.0.0.1:<port>`. */
  origin: string;
  /** `cfssl version`'s first line, e.g. `Version: 1.2.0`. */
  version: string;
  pid: number;
  stop(): Promise<void>;
}

/** The `cfssl` executable on the PATH, or undefined (the bench then skips the peer). */
export function findCfssl(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'cfssl');
    const probe = spawnSync(candidate, ['version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Runs `cfssl <args>` in `cwd`, returns the JSON it prints (gencert's {cert, key, csr}). */
function cfsslJson(cfssl: string, args: string[], cwd: string): { cert: string; key: string } {
  const run = spawnSync(cfssl, args, { cwd, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`cfssl ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as { cert: string; key: string };
}

// A one-hour leaf with the usages an X509-SVID carries, as the SVID route issues.
const CONFIG = {
  signing: {
    default: { expiry: '1h', usages: ['digital signature', 'key encipherment', 'client auth'] },
    profiles: {
      svid: {
        expiry: '1h',
        usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'],
      },
      tls: { expiry: '1h', usages: ['digital signature', 'key encipherment', 'server auth'] },
    },
  },
};

/**
 * Makes a P-256 CA, a P-256 serving certificate for 127.0.0.1 and a signing config in a fresh
 * 0700 directory, starts `cfssl serve` on 127.0.0.1 with them (its log, at cfssl's default
 * level, to a file there) and waits until it signs.
 */
export async function startCfssl(cfssl: string): Promise<CfsslPeer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-bench-cfssl-'));
  await chmod(dir, 0o700);
  const write = (name: string, text: string): Promise<void> =>
    writeFile(path.join(dir, name), text, { mode: 0o600 });
  await write('config.json', JSON.stringify(CONFIG));
  await write(
    'ca-csr.json',
    JSON.stringify({ CN: 'Hallmark bench peer CA', key: { algo: 'ecdsa', size: 256 } }),
  );
  await write(
    'tls-csr.json',
    JSON.stringify({ CN: '127.0.0.1', hosts: ['127.0.0.1'], key: { algo: 'ecdsa', size: 256 } }),
  );
  const ca = cfsslJson(cfssl, ['gencert', '-initca', 'ca-csr.json'], dir);
  await write('ca.pem', ca.cert);
  await write('ca-key.pem', ca.key);
  const tls = cfsslJson(
    cfssl,
    ['gencert', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'config.json'].concat([
      '-profile',
      'tls',
      'tls-csr.json',
    ]),
    dir,
  );
  await write('tls.pem', tls.cert);
  await write('tls-key.pem', tls.key);

  const version = spawnSync(cfssl, ['version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  const port = await freeLoopbackPort();
  const log = openSync(path.join(dir, 'serve.log'), 'w', 0o600);
  const child = spawn(
    cfssl,
    ['serve', '-address', '127.0.0.1', '-port', String(port)].concat(
      ['-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'config.json'],
      ['-tls-cert', 'tls.pem', '-tls-key', 'tls-key.pem'],
    ),
    { cwd: dir, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const origin = `https://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await stopChild(child, 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  const agent = new Agent({ connect: { ca: ca.cert } });
  try {
    await waitFor(
      'cfssl serve',
      async () => {
        const answer = await request(`${origin}/api/v1/cfssl/info`, {
          method: 'POST',
          dispatcher: agent,
          body: '{}',
        });
        await answer.body.text();
        return answer.statusCode === 200 ? true : undefined;
      },
      {
        timeoutMs: 30_000,
        gone: () => (child.exitCode === null ? undefined : `exited (${child.exitCode})`),
      },
    );
  } catch (err) {
    const tail = await readFile(path.join(dir, 'serve.log'), 'utf8').catch(() => '');
    await stop();
    if (err instanceof Error) err.message += `\n${tail.slice(-1000)}`;
    throw err;
  } finally {
    await agent.close();
  }
  return { origin, version, pid: child.pid as number, stop };
}

/** The body of `POST /api/v1/cfssl/sign` for `csrPem`: cfssl's sign request, SVID profile. */
export function cfsslSignBody(csrPem: string): string {
  return JSON.stringify({ certificate_request: csrPem, profile: 'svid' });
}
