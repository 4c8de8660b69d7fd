// OIDC discovery as a relying party sees it: openid-client discovers the issuer a real server
// serves over HTTPS, the JWKS it names verifies a JWT-SVID fetched through the sidecar's
// Workload API, and tokens for another audience, expired or signed by a dropped key are refused.
import { createServer } from 'node:net';
import path from 'node:path';
import * as client from 'openid-client';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock/index.js';
import { WORKLOAD, startSidecarStack } from '../sidecar/sidecar-stack.js';
import type { SidecarStack } from '../sidecar/sidecar-stack.js';
import { waitFor } from '../sidecar/wait-for.js';
import { WorkloadApiClient } from '../sidecar/workload-api-client.js';

/** Real time plus an offset the test moves: the server's rotation runs ahead on demand. */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

/** A free port on 127.0.0.1, so the issuer URL can name it before the server starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const AUDIENCE = 'sts.amazonaws.com';

describe.each([
  { keyType: 'ec-p256', alg: 'ES256', kty: 'EC' },
  { keyType: 'rsa-2048', alg: 'RS256', kty: 'RSA' },
])('OIDC discovery with $keyType JWT authorities', ({ keyType, alg, kty }) => {
  let env: SidecarStack;
  let issuer: string;
  let agent: Agent;
  let workloadApi: WorkloadApiClient;
  const clock = new OffsetClock();
  /** The relying party's HTTPS: undici trusting only the server's CA bundle. */
  const rpFetch = (url: string, options: object): Promise<Response> =>
    undiciFetch(url, { ...options, dispatcher: agent }) as unknown as Promise<Response>;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `https://127.0.0.1:${port}`;
    env = await startSidecarStack(
      {
        HALLMARK_LISTEN: `127.0.0.1:${port}`,
        HALLMARK_OIDC_ISSUER: issuer,
        HALLMARK_JWT_SVID_KEY_TYPE: keyType,
      },
      { clock },
    );
    agent = new Agent({ connect: { ca: env.stack.server.ca.bundle().certificatesPem.join('') } });
    const socket = path.join(env.dir, 'oidc', 'agent.sock');
    const sidecar = await env.startSidecar({
      outputDir: path.join(env.dir, 'oidc'),
      workloadApiSocket: socket,
    });
    await waitFor('sidecar ready', () => sidecar.handle.phase === 'ready');
    workloadApi = new WorkloadApiClient(`unix://${socket}`);
  }, 60_000);

  afterAll(async () => {
    workloadApi?.close();
    await agent?.close();
    await env?.close();
  });

  async function jwtSvid(audience: string): Promise<string> {
    const answer = await workloadApi.fetchJwtSvid({ audience: [audience] });
    return answer.svids[0]!.svid;
  }

  it('is discovered by openid-client; the JWKS it names verifies a JWT-SVID from FetchJWTSVID (iss, aud, sub); other audiences, expired tokens and dropped keys are refused', async () => {
    const config = await client.discovery(
      new URL(issuer),
      'hallmark-test-rp',
      undefined,
      undefined,
      {
        [client.customFetch]: rpFetch,
      },
    );
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);
    expect(metadata.id_token_signing_alg_values_supported).toEqual([alg]);
    expect(metadata.response_types_supported).toEqual(['id_token']);
    expect(metadata.subject_types_supported).toEqual(['public']);
    // Nothing suggests endpoints Hallmark does not serve.
    expect(metadata.authorization_endpoint).toBeUndefined();
    expect(metadata.token_endpoint).toBeUndefined();
    expect(metadata.userinfo_endpoint).toBeUndefined();

    // The key set: JWT authorities only, each with kid, alg and use: sig; cacheable briefly.
    const keySet = await rpFetch(metadata.jwks_uri!, {});
    expect(keySet.status).toBe(200);
    expect(keySet.headers.get('cache-control')).toBe('public, max-age=150');
    const jwks = (await keySet.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty, alg, use: 'sig' });
      expect(typeof key['kid']).toBe('string');
      expect(key['x5c']).toBeUndefined();
      expect(key['d']).toBeUndefined();
    }

    const keys = createRemoteJWKSet(new URL(metadata.jwks_uri!), {
      [customFetch]: rpFetch,
      cacheMaxAge: 0,
      cooldownDuration: 0,
    });
    const checks = {
      issuer: metadata.issuer,
      audience: AUDIENCE,
      subject: WORKLOAD.spiffeId,
      algorithms: metadata.id_token_signing_alg_values_supported,
    };
    const token = await jwtSvid(AUDIENCE);
    expect(decodeProtectedHeader(token).alg).toBe(alg);
    const { payload } = await jwtVerify(token, keys, checks);
    expect(payload).toMatchObject({ iss: issuer, sub: WORKLOAD.spiffeId, aud: [AUDIENCE] });
    // Inside the trust domain the same token validates through the Workload API, whatever the
    // key type.
    const validated = await workloadApi.validateJwtSvid({ audience: AUDIENCE, svid: token });
    expect(validated.spiffe_id).toBe(WORKLOAD.spiffeId);

    // Another audience.
    const other = await jwtSvid('vault.example');
    await expect(jwtVerify(other, keys, checks)).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'aud',
    });
    // Expired: the relying party's clock after `exp`.
    const exp = payload.exp! * 1000;
    await expect(
      jwtVerify(token, keys, { ...checks, currentDate: new Date(exp + 1_000) }),
    ).rejects.toBeInstanceOf(errors.JWTExpired);

    // A key retired and then dropped (every token it signed has expired): the rotation is
    // driven on the server's clock; the relying party refreshes the key set and finds no key.
    const signedBy = decodeProtectedHeader(token).kid;
    const ring = env.stack.server.jwtAuthorities;
    const day = 24 * 3_600_000;
    clock.offsetMs += day / 2 + 60_000;
    await ring.rotate({ wait: true, actor: 'test' }); // prepares the successor
    // Published before it signs: a relying party refreshing now already holds the new key.
    const successor = ring.authorities().find((a) => a.status === 'prepared')?.kid;
    expect(successor).toBeDefined();
    const ahead = (await (await rpFetch(metadata.jwks_uri!, {})).json()) as {
      keys: { kid: string }[];
    };
    expect(ahead.keys.map((key) => key.kid)).toContain(successor);
    clock.offsetMs += day / 2 + 10 * 60_000;
    await ring.rotate({ wait: true, actor: 'test' }); // activates it, retires ours
    expect(ring.authorities().find((a) => a.kid === signedBy)?.status).toBe('retired');
    // Retired but published until its tokens have expired: still verifies.
    await jwtVerify(token, keys, checks);
    clock.offsetMs += 12 * 60_000;
    await ring.rotate({ wait: true, actor: 'test' }); // drops it
    expect(ring.authorities().map((a) => a.kid)).not.toContain(signedBy);
    await expect(jwtVerify(token, keys, checks)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    const after = (await (await rpFetch(metadata.jwks_uri!, {})).json()) as {
      keys: { kid: string }[];
    };
    expect(after.keys.map((key) => key.kid)).not.toContain(signedBy);
  }, 60_000);

  it('serves nothing at the discovery paths when no issuer is configured', async () => {
    // The sidecar stack above has one; a server without HALLMARK_OIDC_ISSUER is the default.
    const plain = await startSidecarStack({ HALLMARK_JWT_SVID_KEY_TYPE: keyType });
    try {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
        const answer = await plain.stack.call('GET', path);
        expect(answer.status).toBe(404);
        expect(answer.body.error?.code).toBe('ERR_REQUEST_NOT_FOUND');
      }
      // The configured key type still signs, published in the SPIFFE bundle.
      const bundle = await plain.stack.call('GET', '/v1/bundle');
      const jwtKeys = (bundle.body.keys as { use: string; kty: string }[]).filter(
        (key) => key.use === 'jwt-svid',
      );
      expect(jwtKeys.map((key) => key.kty)).toEqual([kty]);
    } finally {
      await plain.close();
    }
  }, 60_000);
});
