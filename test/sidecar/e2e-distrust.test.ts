// A running sidecar when its CA is distrusted: it notices through the bundle, re-attests under the
// new CA without restarting, and its Workload API stops serving the old SVID.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSidecarStack } from './sidecar-stack.js';
import type { SidecarStack } from './sidecar-stack.js';
import { waitFor } from './wait-for.js';
import { WorkloadApiClient } from './workload-api-client.js';

/**
 * A 90 s CA publishes a 7 s refresh hint (lifetime / 12); the sidecar polls at it, so it must
 * have a new SVID within one hint plus a renewal. The limit is generous (a bound, not a timing).
 */
const CA_TTL = '90s';
const NOTICE_LIMIT_MS = 7_000 + 8_000;

let env: SidecarStack;

beforeAll(async () => {
  // No scheduled rotation: the only change of CA in this test is the distrust.
  env = await startSidecarStack(
    { HALLMARK_CA_TTL: CA_TTL, HALLMARK_SVID_TTL: '80s' },
    { caTicker: false },
  );
});

afterAll(async () => {
  await env?.close();
});

async function adminToken(): Promise<string> {
  const key = (await readFile(env.stack.server.admin.file, 'utf8')).trim();
  const login = await env.stack.call('POST', '/v1/authn/apikey', {
    body: { id: 'admin', api_key: key },
  });
  return login.body.token as string;
}

describe('a running sidecar when its CA is distrusted', () => {
  it('obtains an SVID from the new CA within a bounded time, without restarting, and serves only that', async () => {
    const out = path.join(env.dir, 'distrust');
    const socket = path.join(out, 'agent.sock');
    const sidecar = await env.startSidecar({ outputDir: out, workloadApiSocket: socket });
    const client = new WorkloadApiClient(`unix://${socket}`);
    try {
      const stream = client.fetchX509Svid();
      const first = new X509Certificate((await stream.message(1)).svids[0]!.x509_svid);
      await waitFor('ready', () => sidecar.handle.phase === 'ready');
      const compromised = env.stack.server.ca.signingAuthority().id;
      const oldCa = new X509Certificate(env.stack.server.ca.authorities()[0]!.certificatePem);
      expect(first.verify(oldCa.publicKey)).toBe(true);

      const distrusted = await env.stack.call('POST', '/v1/ca/distrust', {
        body: { ca_id: compromised, rotate: true },
        headers: { authorization: `Bearer ${await adminToken()}` },
        dispatcher: env.stack.agent(),
      });
      expect(distrusted.status).toBe(200);
      const since = performance.now();
      const newCa = new X509Certificate(
        env.stack.server.ca
          .authorities()
          .find((ca) => ca.id === (distrusted.body.active_ca as number))!.certificatePem,
      );

      // The open stream is ended (Unavailable): the old SVID is not served any more.
      expect((await stream.ended(NOTICE_LIMIT_MS)).code).toBe(status.UNAVAILABLE);
      await waitFor(
        'an SVID from the new CA',
        () => {
          const served = sidecar.handle.identity.snapshot().svid;
          return (
            served !== undefined && new X509Certificate(served.chainPem).verify(newCa.publicKey)
          );
        },
        NOTICE_LIMIT_MS,
        () => sidecar.attempts.map((a) => a.error?.code ?? 'ok'),
      );
      const noticedMs = performance.now() - since;
      console.info(
        `[sidecar] re-attested under the new CA ${noticedMs.toFixed(0)} ms after distrust`,
      );

      const again = client.fetchX509Svid();
      const served = (await again.message(1)).svids[0]!;
      const leaf = new X509Certificate(served.x509_svid);
      expect(leaf.verify(newCa.publicKey)).toBe(true);
      expect(leaf.serialNumber).not.toBe(first.serialNumber);
      expect(served.bundle.equals(newCa.raw)).toBe(true);
      // The files agree, and the same sidecar (no restart) logs in with the new SVID.
      const files = await readFile(path.join(out, 'svid.pem'), 'utf8');
      expect(new X509Certificate(files).serialNumber).toBe(leaf.serialNumber);
      expect(sidecar.attempts.filter((a) => a.credential === 'svid' && !a.error)).toHaveLength(2);
      await waitFor('a token from the new SVID', async () => {
        const login = await env.stack.call('POST', '/v1/authn/login', {
          body: {},
          dispatcher: env.stack.agent({
            cert: files,
            key: await readFile(path.join(out, 'svid-key.pem'), 'utf8'),
          }),
        });
        return login.status === 200;
      });
      expect(sidecar.handle.phase).toBe('ready');
    } finally {
      client.close();
      await sidecar.handle.stop();
    }
  });
});
