// A real rsyslog receiver for sink tests: Debian's rsyslogd on 127.0.0.1, writing each raw message to a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../../src/db/index.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));
const OSSL_DRIVER = [
  '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so',
  '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_ossl.so',
].some((p) => existsSync(p));

/**
 * Whether the rsyslog tests run: always in CI (`CI=true`, where `.ci/run` installs rsyslog and
 * a missing one must fail the run), and on a machine that has rsyslogd and its OpenSSL driver.
 */
export const RSYSLOG_TESTS =
  process.env['CI'] === 'true' || (RSYSLOGD !== undefined && OSSL_DRIVER);

/** Why the rsyslog tests are skipped here, printed once by each test file that skips. */
export const RSYSLOG_SKIP_REASON =
  'rsyslog tests skipped: /usr/sbin/rsyslogd or its OpenSSL driver is missing ' +
  '(apt-get install -y rsyslog rsyslog-openssl)';

/** How the receiver listens. */
export interface RsyslogOptions {
  protocol: 'tls' | 'tcp' | 'udp';
  /** TLS: PEM files of the receiver's identity and the CA it checks clients against. */
  tls?: { cert: string; key: string; ca: string; requireClientCert: boolean };
  /** Reuse a port (restart after a kill). */
  port?: number;
}

/** A running rsyslogd. */
export interface RsyslogReceiver {
  readonly port: number;
  /** Every message received so far, as written (the raw RFC 5424 message, one per line). */
  lines(): Promise<string[]>;
  /** SIGSTOP: hangs (connections stay open, nothing is read); `kill` still works. */
  freeze(): void;
  /** SIGKILL: gone at once, like a crashed receiver. */
  kill(): Promise<void>;
  /** Starts it again on the same port, appending to the same file. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function config(dir: string, port: number, options: RsyslogOptions): string {
  const out = path.join(dir, 'messages.log');
  const lines = [
    `global(workDirectory="${dir}" maxMessageSize="64k"`,
    options.tls
      ? `  defaultNetstreamDriverCAFile="${path.join(dir, 'ca.pem')}"
  defaultNetstreamDriverCertFile="${path.join(dir, 'cert.pem')}"
  defaultNetstreamDriverKeyFile="${path.join(dir, 'key.pem')}")`
      : ')',
    // Direct: a message is written before the next is read, so a message counts as received
    // (and the connection's orderly close confirms it) only once it is in the file.
    'main_queue(queue.type="Direct")',
  ];
  if (options.protocol === 'udp') {
    lines.push('module(load="imudp")', `input(type="imudp" address="127.0.0.1" port="${port}")`);
  } else if (options.protocol === 'tcp') {
    lines.push('module(load="imtcp")', `input(type="imtcp" address="127.0.0.1" port="${port}")`);
  } else {
    const auth = options.tls?.requireClientCert ? 'x509/certvalid' : 'anon';
    lines.push(
      `module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="${auth}")`,
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
    );
  }
  lines.push(
    'template(name="raw" type="string" string="%rawmsg%\\n")',
    `action(type="omfile" file="${out}" template="raw" asyncWriting="off" flushOnTXEnd="on")`,
  );
  return lines.join('\n') + '\n';
}

async function listening(
  port: number,
  protocol: RsyslogOptions['protocol'],
  child: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}`);
    if (protocol === 'udp') {
      await new Promise((r) => setTimeout(r, 300));
      return;
    }
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('rsyslogd did not start listening within 10 s');
}

/** Starts rsyslogd in the foreground with a generated config in a temporary directory. */
export async function startRsyslog(options: RsyslogOptions): Promise<RsyslogReceiver> {
  if (RSYSLOGD === undefined) throw new Error(RSYSLOG_SKIP_REASON);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-rsyslog-'));
  if (options.tls) {
    await writeFile(path.join(dir, 'cert.pem'), options.tls.cert);
    await writeFile(path.join(dir, 'key.pem'), options.tls.key, { mode: 0o600 });
    await writeFile(path.join(dir, 'ca.pem'), options.tls.ca);
  }
  const port = options.port ?? (await freeLoopbackPort());
  const conf = path.join(dir, 'rsyslog.conf');
  await writeFile(conf, config(dir, port, options));
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    const spawned = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    spawned.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child = spawned;
    try {
      await listening(port, options.protocol, spawned);
    } catch (err) {
      spawned.kill('SIGKILL');
      throw new Error(`${(err as Error).message}: ${stderr}`);
    }
  };
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  };
  await start();
  return {
    port,
    async lines() {
      try {
        const text = await readFile(path.join(dir, 'messages.log'), 'utf8');
        return text.split('\n').filter((line) => line !== '');
      } catch {
        return [];
      }
    },
    freeze: () => child?.kill('SIGSTOP'),
    kill: () => stop('SIGKILL'),
    restart: start,
    async close() {
      await stop('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
