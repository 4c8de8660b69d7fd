// End to end: the server goes away for a while. The sidecar keeps the old files, retries with
// backoff, logs one line per phase change, and recovers when the server is back.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecarStack } from './sidecar-stack.js';
import type { SidecarStack } from './sidecar-stack.js';
import { startTcpProxy } from './tcp-proxy.js';
import type { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait-for.js';

let env: SidecarStack;
let proxy: TcpProxy;

beforeAll(async () => {
  // Tokens expire with their SVID at the latest, so both credentials live 40 s here: the
  // SVID's renewal (half-life, ~20 s) is the first call to fail, with ~20 s of validity left
  // for a few retries and the recovery.
  env = await startSidecarStack({ HALLMARK_SVID_TTL: '40s', HALLMARK_TOKEN_TTL: '5m' });
  proxy = await startTcpProxy(env.stack.server.port);
});

afterAll(async () => {
  await proxy?.close();
  await env?.close();
});

describe('sidecar while the server is down', () => {
  it('keeps the old files, backs off, and recovers with one log line per phase change', async () => {
    const out = path.join(env.dir, 'outage');
    const sidecar = await env.startSidecar({
      outputDir: out,
      serverUrl: `https://127.0.0.1:${proxy.port}`,
    });
    await waitFor('ready', () => sidecar.handle.phase === 'ready');
    const token = await readFile(path.join(out, 'access-token'), 'utf8');
    const svid = await readFile(path.join(out, 'svid.pem'), 'utf8');

    await proxy.down();
    const explain = (): unknown => ({
      phases: sidecar.log.phases(),
      attempts: sidecar.attempts.map((a) => [a.credential, a.error?.code, a.error?.detail, a.at]),
      state: sidecar.handle.state,
      now: Date.now(),
    });
    await waitFor('degraded', () => sidecar.handle.phase === 'degraded', 40_000, explain);
    // Three failed rounds: the first failure and two retries after 1 s and 2 s of backoff.
    await waitFor(
      'three failed rounds',
      () => (sidecar.handle.state.retry?.failures ?? 0) >= 3,
      20_000,
      explain,
    );
    expect(await readFile(path.join(out, 'access-token'), 'utf8')).toBe(token);
    expect(await readFile(path.join(out, 'svid.pem'), 'utf8')).toBe(svid);
    expect(sidecar.handle.healthReport().healthy).toBe(true);
    const failures = sidecar.attempts.filter((a) => a.error);
    expect(new Set(failures.map((a) => a.error?.code))).toEqual(
      new Set(['ERR_SIDECAR_SERVER_UNREACHABLE']),
    );
    expect(failures.length).toBeGreaterThanOrEqual(sidecar.handle.state.retry?.failures ?? 0);

    await proxy.up();
    await waitFor('recovered', () => sidecar.handle.phase === 'ready', 20_000, explain);
    expect(await readFile(path.join(out, 'svid.pem'), 'utf8')).not.toBe(svid);
    expect(sidecar.handle.state.retry).toBeUndefined();
    expect(sidecar.log.phases()).toEqual(['starting', 'ready', 'degraded', 'recovered']);
    const degraded = sidecar.log.lines.find((l) => l.fields.phase === 'degraded');
    expect(degraded?.level).toBe('warn');
    expect(degraded?.message).toContain('ERR_SIDECAR_SERVER_UNREACHABLE');
    // One line per change, not per retry, and never a credential.
    expect(sidecar.log.lines).toHaveLength(4);
    expect(JSON.stringify(sidecar.log.lines)).not.toContain(token);
    await sidecar.handle.stop();
  });
});
