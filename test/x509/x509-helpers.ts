// Shared helpers for the certificate-engine tests: fixtures, error capture, OpenSSL, temp files.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHallmarkError } from '../../src/errors/index.js';
import {
  buildSelfSignedCa,
  generateKeyPair,
  type KeyPair,
  type KeyType,
  type SigningAuthority,
} from '../../src/x509/index.js';
import { ManualClock } from '../doubles/manual-clock.js';

const FIXTURES = new URL('../fixtures/x509/', import.meta.url);

/** A CSR fixture's PEM text. */
export function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** The code (and detail) of the HallmarkError `fn` throws; fails when it throws nothing. */
export function caught(fn: () => unknown): { code: string; detail: string | undefined } {
  try {
    fn();
  } catch (err) {
    if (isHallmarkError(err)) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected a HallmarkError, nothing was thrown');
}

/** The code (and detail) of the HallmarkError `fn` rejects with; fails when it resolves. */
export async function caughtAsync(
  fn: () => Promise<unknown>,
): Promise<{ code: string; detail: string | undefined }> {
  try {
    await fn();
  } catch (err) {
    if (isHallmarkError(err)) return { code: err.code, detail: err.detail };
    throw err;
  }
  throw new Error('expected a HallmarkError, nothing was thrown');
}

/** A fixed test time: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

/** A root CA for `td` at the test clock, with its key pair. */
export async function makeRoot(
  keyType: KeyType = 'ec-p256',
  options: { td?: string; ttlSeconds?: number; clock?: ManualClock } = {},
): Promise<SigningAuthority & { keyPair: KeyPair }> {
  const keyPair = generateKeyPair(keyType);
  const certificatePem = await buildSelfSignedCa({
    trustDomain: options.td ?? 'hallmark.local',
    keyPair,
    ttlSeconds: options.ttlSeconds ?? 30 * 86_400,
    clock: options.clock ?? new ManualClock(T0),
  });
  return { certificatePem, privateKey: keyPair.privateKey, chainPem: [], keyPair };
}

/** True when an `openssl` binary can be run. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/**
 * Runs `openssl verify` on `leafPem` against `rootsPem` (and `untrustedPem` intermediates) at
 * `atSeconds` (epoch seconds, so the fixed test clock and OpenSSL agree). Returns exit status
 * and output; temp files are removed.
 */
export function opensslVerify(args: {
  leafPem: string;
  rootsPem: string[];
  untrustedPem?: string[];
  purpose: 'sslclient' | 'sslserver';
  atSeconds: number;
}): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-x509-'));
  try {
    writeFileSync(join(dir, 'leaf.pem'), args.leafPem);
    writeFileSync(join(dir, 'bundle.pem'), args.rootsPem.join(''));
    const argv = ['verify', '-x509_strict', '-purpose', args.purpose];
    argv.push('-attime', String(args.atSeconds), '-CAfile', join(dir, 'bundle.pem'));
    if (args.untrustedPem && args.untrustedPem.length > 0) {
      writeFileSync(join(dir, 'untrusted.pem'), args.untrustedPem.join(''));
      argv.push('-untrusted', join(dir, 'untrusted.pem'));
    }
    argv.push(join(dir, 'leaf.pem'));
    const result = spawnSync('openssl', argv, { encoding: 'utf8', timeout: 10_000 });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl <args>` on `input` (stdin), returning stdout. */
export function openssl(args: string[], input: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', timeout: 10_000 });
}
