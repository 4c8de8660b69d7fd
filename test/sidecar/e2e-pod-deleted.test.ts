// End to end: the pod is deleted. Renewal and login fail, the token is removed when it expires,
// and /healthz turns 503.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKLOAD, startSidecarStack } from './sidecar-stack.js';
import type { SidecarStack } from './sidecar-stack.js';
import { waitFor } from './wait-for.js';

let env: SidecarStack;

beforeAll(async () => {
  env = await startSidecarStack({ HALLMARK_SVID_TTL: '20s', HALLMARK_TOKEN_TTL: '10s' });
});

afterAll(async () => {
  await env?.close();
});

describe('sidecar after its pod is deleted', () => {
  it('fails renewal and login, removes the token at expiry and reports unhealthy', async () => {
    const out = path.join(env.dir, 'deleted');
    const sidecar = await env.startSidecar({ outputDir: out });
    await waitFor('ready', () => sidecar.handle.phase === 'ready');
    const healthUrl = `${sidecar.handle.health!.url}/healthz`;
    expect((await fetch(healthUrl)).status).toBe(200);

    env.stack.k8s.deletePod(WORKLOAD.namespace, WORKLOAD.pod);
    await waitFor('expired', () => sidecar.handle.phase === 'expired', 30_000);
    expect(await readdir(out)).not.toContain('access-token');
    expect((await readdir(out)).sort()).toEqual(['bundle.pem', 'svid-key.pem', 'svid.pem']);
    const health = await fetch(healthUrl);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ phase: 'expired', token_expires_at: null });

    const failed = (credential: string): (string | undefined)[] =>
      sidecar.attempts
        .filter((a) => a.credential === credential && a.error)
        .map((a) => a.error?.code);
    expect(failed('token').length).toBeGreaterThan(0);
    expect(failed('token').every((code) => code === 'ERR_AUTHN_POD_GONE')).toBe(true);
    // The SVID's own renewal (half of 20 s) is refused too: the pod-bound token is invalidated.
    await waitFor('SVID renewal refused', () => failed('svid').length > 0, 30_000);
    expect(failed('svid')[0]).toMatch(/^ERR_ATTEST_/);
    expect(sidecar.log.phases()).toEqual(['starting', 'ready', 'degraded', 'expired']);
    await sidecar.handle.stop();
  });
});
