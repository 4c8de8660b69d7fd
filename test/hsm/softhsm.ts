// SoftHSM2 for tests and the bench: whether it is here, and a fresh token in a temp dir each time.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian (and a few other distributions) install SoftHSM2's PKCS#11 library. */
const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

/** The test PINs; SoftHSM2 wants 4 to 255 characters. */
export const USER_PIN = '4701-test-pin';
export const SO_PIN = '8812-test-so-pin';

type Availability = { available: true; modulePath: string } | { available: false; reason: string };

// A variable, so type-checking does not need the optional package.
const BINDING = 'pkcs11js';

async function checkSoftHsm(): Promise<Availability> {
  try {
    await import(BINDING);
  } catch (err) {
    return {
      available: false,
      reason: `the optional dependency pkcs11js is not installed or did not build (${(err as Error).message.split('\n')[0]})`,
    };
  }
  const modulePath = MODULE_CANDIDATES.find((file) => existsSync(file));
  if (modulePath === undefined) {
    return { available: false, reason: 'SoftHSM2 is not installed (apt-get install softhsm2)' };
  }
  try {
    await run('softhsm2-util', ['--version']);
  } catch {
    return { available: false, reason: 'softhsm2-util is not on PATH (apt-get install softhsm2)' };
  }
  return { available: true, modulePath };
}

/** Whether SoftHSM2 and pkcs11js are here; checked once per test file. */
export const softHsm: Availability = await checkSoftHsm();

/** The path of SoftHSM2's library; only when {@link softHsm} says it is available. */
export function softHsmModule(): string {
  if (!softHsm.available) throw new Error(softHsm.reason);
  return softHsm.modulePath;
}

/** A token initialised for one test, in a directory of its own. */
export interface SoftHsmToken {
  readonly label: string;
  readonly dir: string;
  readonly modulePath: string;
  /** A file holding {@link USER_PIN}, as `HALLMARK_PKCS11_PIN_FILE` would name it. */
  readonly pinFile: string;
  /** The SoftHSM2 configuration naming this token directory (`SOFTHSM2_CONF`). */
  readonly conf: string;
  /** Moves the token's directory out of SoftHSM2's token directory: the token is gone. */
  hide(): Promise<void>;
  /** Puts it back. */
  restore(): Promise<void>;
  /** Deletes everything. */
  remove(): Promise<void>;
}

/**
 * Initialises a fresh token with `softhsm2-util --init-token --free` in a temp directory and
 * points `SOFTHSM2_CONF` at it. SoftHSM2 reads that variable at every C_Initialize, so each
 * test gets its own token; test files run in separate processes (vitest forks).
 */
export async function createSoftHsmToken(label = 'hallmark-test'): Promise<SoftHsmToken> {
  const modulePath = softHsmModule();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-softhsm-'));
  const tokens = path.join(dir, 'tokens');
  const parked = path.join(dir, 'parked');
  await mkdir(tokens);
  await mkdir(parked);
  const conf = path.join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  await run(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', USER_PIN],
    { env },
  );
  const pinFile = path.join(dir, 'user.pin');
  await writeFile(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  const [tokenDir] = await readdir(tokens);
  if (tokenDir === undefined) throw new Error('softhsm2-util created no token directory');
  return {
    label,
    dir,
    modulePath,
    pinFile,
    conf,
    hide: () => rename(path.join(tokens, tokenDir), path.join(parked, tokenDir)),
    restore: () => rename(path.join(parked, tokenDir), path.join(tokens, tokenDir)),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
