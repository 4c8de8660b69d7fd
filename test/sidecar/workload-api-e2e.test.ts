// The Workload API end to end: the real server and test Kubernetes API, a sidecar with short
// SVIDs, and a gRPC client from the .proto on its socket — as an unmodified SPIFFE app would be.
import { X509Certificate } from 'node:crypto';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKLOAD, startSidecarStack } from './sidecar-stack.js';
import type { RunningSidecar, SidecarStack } from './sidecar-stack.js';
import { waitFor } from './wait-for.js';
import { WorkloadApiClient, failureOf, structToJson } from './workload-api-client.js';

const TRUST_DOMAIN_ID = 'spiffe://hallmark.local';

let env: SidecarStack;

beforeAll(async () => {
  env = await startSidecarStack({ HALLMARK_SVID_TTL: '30s' });
});

afterAll(async () => {
  await env?.close();
});

/** DER of every certificate in a PEM file, concatenated (the Workload API's encoding). */
function derOf(pem: string): Buffer {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return Buffer.concat(blocks.map((block) => new X509Certificate(block).raw));
}

/** A sidecar serving the Workload API on `<dir>/<name>/agent.sock`, and a client on it. */
async function startServing(
  name: string,
): Promise<{ sidecar: RunningSidecar; client: WorkloadApiClient; out: string; socket: string }> {
  const out = path.join(env.dir, name);
  const socket = path.join(out, 'agent.sock');
  const sidecar = await env.startSidecar({ outputDir: out, workloadApiSocket: socket });
  return { sidecar, client: new WorkloadApiClient(`unix://${socket}`), out, socket };
}

describe('Workload API against the real server', () => {
  it('streams the X509-SVID as in the files, again after renewal with a new certificate; bundles stream; socket 0660', async () => {
    const { sidecar, client, out, socket } = await startServing('x509');
    try {
      expect((await stat(socket)).mode & 0o777).toBe(0o660);
      const stream = client.fetchX509Svid();
      const first = await stream.message(1);
      const svid = first.svids[0]!;
      expect(svid.spiffe_id).toBe(WORKLOAD.spiffeId);
      // The stream serves what the files hold: published only after they are written.
      const chainFile = await readFile(path.join(out, 'svid.pem'), 'utf8');
      expect(svid.x509_svid.equals(derOf(chainFile))).toBe(true);
      const bundleFile = await readFile(path.join(out, 'bundle.pem'), 'utf8');
      expect(svid.bundle.equals(derOf(bundleFile))).toBe(true);
      const firstLeaf = new X509Certificate(svid.x509_svid);
      expect(firstLeaf.subjectAltName).toBe(`URI:${WORKLOAD.spiffeId}`);

      const bundles = client.fetchX509Bundles();
      expect(Object.keys((await bundles.message(1)).bundles)).toEqual([TRUST_DOMAIN_ID]);
      expect(bundles.messages[0]!.bundles[TRUST_DOMAIN_ID]!.equals(derOf(bundleFile))).toBe(true);

      // Renewal at half of the 30 s lifetime.
      const second = (await stream.message(2, 45_000)).svids[0]!;
      const secondLeaf = new X509Certificate(second.x509_svid);
      expect(secondLeaf.serialNumber).not.toBe(firstLeaf.serialNumber);
      expect(second.x509_svid_key.equals(svid.x509_svid_key)).toBe(false);
      expect(secondLeaf.subjectAltName).toBe(`URI:${WORKLOAD.spiffeId}`);
      expect(secondLeaf.verify(new X509Certificate(bundleFile).publicKey)).toBe(true);
      const renewedFile = await readFile(path.join(out, 'svid.pem'), 'utf8');
      expect(second.x509_svid.equals(derOf(renewedFile))).toBe(true);
      expect(sidecar.attempts.filter((a) => a.error !== undefined)).toEqual([]);
      // Same CA: the bundle stream had nothing new to say.
      expect(bundles.messages).toHaveLength(1);
    } finally {
      client.close();
      await sidecar.handle.stop();
    }
    await expect(stat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fetches a JWT-SVID from the server that verifies against GET /v1/bundle; JWT bundles stream; ValidateJWTSVID accepts and refuses', async () => {
    const { sidecar, client } = await startServing('jwt');
    try {
      await waitFor('ready', () => sidecar.handle.phase === 'ready');
      const answer = await client.fetchJwtSvid({ audience: ['payments-db'] });
      expect(answer.svids).toHaveLength(1);
      expect(answer.svids[0]!.spiffe_id).toBe(WORKLOAD.spiffeId);
      const token = answer.svids[0]!.svid;

      // The server publishes its JWT authorities as `jwt-svid` keys of the SPIFFE bundle...
      const published = await env.stack.call('GET', '/v1/bundle');
      expect(published.status).toBe(200);
      const authorities = (published.body.keys as { use: string; kid?: string }[])
        .filter((key) => key.use === 'jwt-svid')
        .map((key) => key.kid);
      expect(authorities.length).toBeGreaterThan(0);
      // ...which FetchJWTBundles hands out as a plain JWK Set a legacy validator uses (§6.3).
      const jwtBundles = client.fetchJwtBundles();
      const bundle = (await jwtBundles.message(1)).bundles;
      expect(Object.keys(bundle)).toEqual([TRUST_DOMAIN_ID]);
      const jwks = JSON.parse(bundle[TRUST_DOMAIN_ID]!.toString('utf8')) as JSONWebKeySet;
      expect(jwks.keys.map((key) => key.kid).sort()).toEqual([...authorities].sort());
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
        audience: 'payments-db',
      });
      expect(payload.sub).toBe(WORKLOAD.spiffeId);
      expect(protectedHeader).toMatchObject({ typ: 'JWT' });
      expect(authorities).toContain(protectedHeader.kid);

      const valid = await client.validateJwtSvid({ audience: 'payments-db', svid: token });
      expect(valid.spiffe_id).toBe(WORKLOAD.spiffeId);
      expect(structToJson(valid.claims)).toMatchObject({
        sub: WORKLOAD.spiffeId,
        aud: ['payments-db'],
      });
      const wrong = await failureOf(client.validateJwtSvid({ audience: 'ledger', svid: token }));
      expect(wrong.code).toBe(status.INVALID_ARGUMENT);
      expect(wrong.details).toMatch(/^ERR_JWTSVID_AUDIENCE_MISMATCH: /);

      const headerless = await failureOf(
        client.fetchJwtSvid({ audience: ['payments-db'] }, { header: false }),
      );
      expect(headerless.code).toBe(status.INVALID_ARGUMENT);
      expect((await client.fetchX509Svid({ header: false }).ended()).code).toBe(
        status.INVALID_ARGUMENT,
      );
    } finally {
      client.close();
      await sidecar.handle.stop();
    }
  });

  it('reports /healthz 503 once its socket is deleted or replaced, 200 while it serves', async () => {
    const { sidecar, client, socket } = await startServing('health');
    const probe = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${sidecar.handle.health!.url}/healthz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      await client.fetchX509Svid().message(1);
      await waitFor('healthy', async () => (await probe()).status === 200);
      expect((await probe()).body.workload_api).toBe('serving');
      // Deleted from the shared volume: apps can no longer reach this server.
      await unlink(socket);
      expect(await probe()).toMatchObject({ status: 503, body: { workload_api: 'gone' } });
      // A plain file in its place is not our socket either.
      await writeFile(socket, '');
      expect(await probe()).toMatchObject({ status: 503, body: { workload_api: 'gone' } });
    } finally {
      client.close();
      await sidecar.handle.stop();
    }
  });
});
