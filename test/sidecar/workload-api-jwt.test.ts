// The Workload API's JWT-SVID profile over the real socket: FetchJWTSVID through the server with
// the current X509-SVID, FetchJWTBundles changes, ValidateJWTSVID with go-spiffe's reasons.
import { X509Certificate } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HallmarkError } from '../../src/errors/index.js';
import { ServerRefusal, UNKNOWN_KID_REFETCH_MS } from '../../sidecar/index.js';
import type { JwtAuthorityJwk } from '../../sidecar/index.js';
import { failureOf, structToJson } from './workload-api-client.js';
import { waitFor } from './wait-for.js';
import {
  ID,
  InProcessServer,
  T0,
  TRUST_DOMAIN_ID,
  createHarness,
  jwtAuthority,
  leafOf,
} from './workload-api-harness.js';
import type { Harness } from './workload-api-harness.js';

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
});

afterEach(async () => {
  await h.close();
});

describe('Workload API: JWT-SVID profile', () => {
  it('FetchJWTSVID asks the server with the current X509-SVID and returns its token', async () => {
    await h.start();
    await h.advanceTo(T0, 2);
    const x509 = await h.client.fetchX509Svid().message(1);
    const answer = await h.client.fetchJwtSvid({ audience: ['payments-db', 'ledger'] });
    expect(answer.svids).toHaveLength(1);
    expect(answer.svids[0]!.spiffe_id).toBe(ID);
    const claims = JSON.parse(
      Buffer.from(answer.svids[0]!.svid.split('.')[1]!, 'base64url').toString(),
    );
    expect(claims).toMatchObject({ sub: ID, aud: ['payments-db', 'ledger'] });
    // The mTLS client certificate was the SVID the stream serves.
    expect(new X509Certificate(h.server.jwtClients[0]!).raw.equals(leafOf(x509).raw)).toBe(true);
    expect((await h.client.fetchJwtSvid({ audience: ['a'], spiffe_id: ID })).svids).toHaveLength(1);
  });

  it('FetchJWTSVID refuses an empty audience, another SPIFFE ID, and answers Unavailable before the first SVID', async () => {
    await h.start();
    expect(await failureOf(h.client.fetchJwtSvid({ audience: ['x'] }))).toMatchObject({
      code: status.UNAVAILABLE,
    });
    await h.advanceTo(T0, 2);
    const empty = await failureOf(h.client.fetchJwtSvid({ audience: [] }));
    expect(empty).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(empty.details).toMatch(/^ERR_JWTSVID_AUDIENCE_INVALID: /);
    const other = await failureOf(
      h.client.fetchJwtSvid({
        audience: ['x'],
        spiffe_id: 'spiffe://hallmark.local/ns/other/sa/x',
      }),
    );
    expect(other.code).toBe(status.PERMISSION_DENIED);
    expect(
      (await failureOf(h.client.fetchJwtSvid({ audience: ['x'], spiffe_id: 'nope' }))).code,
    ).toBe(status.INVALID_ARGUMENT);
    const impostor = new InProcessServer(h.server.pki, h.clock);
    h.server.issueJwtSvid = async () => {
      throw new ServerRefusal('ERR_AUTHN_CLIENT_CERT_INVALID', 401, 'POST /v1/svid/jwt: 401');
    };
    expect((await failureOf(h.client.fetchJwtSvid({ audience: ['x'] }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    h.server.issueJwtSvid = async () => {
      throw new HallmarkError('ERR_SIDECAR_SERVER_UNREACHABLE', { detail: 'ECONNREFUSED' });
    };
    expect((await failureOf(h.client.fetchJwtSvid({ audience: ['x'] }))).code).toBe(
      status.UNAVAILABLE,
    );
    h.server.issueJwtSvid = async (_c, audience) => ({
      spiffeId: ID,
      token: await impostor.sign(
        { aud: [...audience] },
        0,
        'spiffe://hallmark.local/ns/other/sa/x',
      ),
      expiresAt: 0,
    });
    expect((await failureOf(h.client.fetchJwtSvid({ audience: ['x'] }))).details).toMatch(
      /^ERR_SIDECAR_BAD_RESPONSE: /,
    );
  });

  it('FetchJWTBundles streams the JWKS of the jwt-svid keys and a new message when a key is published', async () => {
    await h.start();
    await h.advanceTo(T0, 2);
    const stream = h.client.fetchJwtBundles();
    const first = await stream.message(1);
    expect(Object.keys(first.bundles)).toEqual([TRUST_DOMAIN_ID]);
    // A plain JWK Set without `use` (as SPIRE sends it), which any JWT library can verify with.
    const { use, ...published } = h.server.authorities[0]!.jwk;
    expect(use).toBe('jwt-svid');
    const jwks = JSON.parse(first.bundles[TRUST_DOMAIN_ID]!.toString('utf8')) as JSONWebKeySet;
    expect(jwks).toStrictEqual({ keys: [published] });
    const token = await h.server.sign({ aud: ['ledger'] });
    const verified = await jwtVerify(token, createLocalJWKSet(jwks), {
      audience: 'ledger',
      currentDate: new Date(h.clock.now()),
    });
    expect(verified.payload.sub).toBe(ID);
    // Unchanged at the next poll: no message.
    await h.advanceTo(h.clock.now() + 5_000);
    await waitFor('poll', () => h.timers.earliest() !== undefined);
    h.server.authorities.push(jwtAuthority('k2'));
    await h.advanceTo(h.clock.now() + 5_000);
    const second = await stream.message(2);
    const keys = JSON.parse(second.bundles[TRUST_DOMAIN_ID]!.toString('utf8')).keys;
    expect(keys.map((k: JwtAuthorityJwk) => k.kid)).toEqual(['k1', 'k2']);
    expect(stream.messages).toHaveLength(2);
  });

  it('ValidateJWTSVID returns the SPIFFE ID and claims, and refuses with go-spiffe reasons', async () => {
    h.server.refreshHintMs = 300_000;
    await h.start();
    await h.advanceTo(T0, 2);
    const token = await h.server.sign({ aud: ['ledger'], scope: { read: [1, true, null] } });
    const valid = await h.client.validateJwtSvid({ audience: 'ledger', svid: token });
    expect(valid.spiffe_id).toBe(ID);
    expect(structToJson(valid.claims)).toMatchObject({
      sub: ID,
      aud: ['ledger'],
      scope: { read: [1, true, null] },
    });

    const wrongAudience = await failureOf(
      h.client.validateJwtSvid({ audience: 'other', svid: token }),
    );
    expect(wrongAudience.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongAudience.details).toMatch(/^ERR_JWTSVID_AUDIENCE_MISMATCH: expected audience in/);
    expect(
      (await failureOf(h.client.validateJwtSvid({ audience: 'ledger', svid: '' }))).details,
    ).toMatch(/^ERR_WORKLOADAPI_REQUEST_INVALID: /);
    expect((await failureOf(h.client.validateJwtSvid({ audience: '', svid: token }))).code).toBe(
      status.INVALID_ARGUMENT,
    );

    // The bundle is cached for its refresh hint (300 s here)...
    expect(h.server.bundleFetches).toBe(1);
    h.server.authorities.push(jwtAuthority('k2'));
    const fresh = await h.server.sign({ aud: ['ledger'] }, 1);
    expect(
      (await failureOf(h.client.validateJwtSvid({ audience: 'ledger', svid: fresh }))).details,
    ).toMatch(/^ERR_JWTSVID_AUTHORITY_UNKNOWN: /);
    // ...but a key published since is found by fetching again once the cache is 5 s old.
    h.clock.advance(UNKNOWN_KID_REFETCH_MS);
    expect((await h.client.validateJwtSvid({ audience: 'ledger', svid: fresh })).spiffe_id).toBe(
      ID,
    );
    expect(h.server.bundleFetches).toBe(2);
    const stranger = jwtAuthority('k3');
    const unknown = await new SignJWT({
      sub: ID,
      aud: ['ledger'],
      exp: Math.floor(h.clock.now() / 1000) + 60,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k3' })
      .sign(stranger.key);
    expect(
      (await failureOf(h.client.validateJwtSvid({ audience: 'ledger', svid: unknown }))).details,
    ).toMatch(/^ERR_JWTSVID_AUTHORITY_UNKNOWN: /);
    h.clock.advance(10 * 60_000);
    expect(
      (await failureOf(h.client.validateJwtSvid({ audience: 'ledger', svid: token }))).details,
    ).toMatch(/^ERR_JWTSVID_EXPIRED: token has expired$/);
  });
});
