// The Workload API's X509-SVID profile over the real socket, the refresh loop driven in-process:
// first message, renewal, expiry and refusal statuses, bundle changes on CA rotation.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerRefusal } from '../../sidecar/index.js';
import { createTestPki } from './test-pki.js';
import { waitFor } from './wait-for.js';
import { ID, T0, TRUST_DOMAIN_ID, createHarness, leafOf } from './workload-api-harness.js';
import type { Harness } from './workload-api-harness.js';

let h: Harness;

beforeEach(async () => {
  h = await createHarness();
});

afterEach(async () => {
  await h.close();
});

describe('Workload API: X509-SVID profile', () => {
  it('streams the SVID (DER chain, PKCS#8 key, DER bundle) once obtained, and again after renewal', async () => {
    const handle = await h.start();
    // Opened before the first SVID exists: the stream waits for it.
    const stream = h.client.fetchX509Svid();
    await h.advanceTo(T0, 2);
    const first = await stream.message(1);
    expect(first.svids).toHaveLength(1);
    expect(first.crl).toEqual([]);
    expect(first.federated_bundles).toEqual({});
    const svid = first.svids[0]!;
    expect(svid.spiffe_id).toBe(ID);
    const leaf = leafOf(first);
    expect(leaf.subjectAltName).toBe(`URI:${ID}`);
    const key = createPrivateKey({ key: svid.x509_svid_key, format: 'der', type: 'pkcs8' });
    expect(leaf.checkPrivateKey(key)).toBe(true);
    expect(svid.bundle.equals(new X509Certificate(h.server.pki.bundlePem).raw)).toBe(true);
    expect(leaf.verify(new X509Certificate(h.server.pki.bundlePem).publicKey)).toBe(true);

    await h.advanceTo(handle.state.svid!.renewAt, 1);
    const second = await stream.message(2);
    expect(second.svids[0]!.spiffe_id).toBe(ID);
    expect(leafOf(second).serialNumber).not.toBe(leaf.serialNumber);
    expect(second.svids[0]!.x509_svid_key.equals(svid.x509_svid_key)).toBe(false);
    expect(stream.messages).toHaveLength(2);
    expect(stream.status).toBeUndefined();
  });

  it('sends the current SVID at once to a new stream', async () => {
    await h.start();
    await h.advanceTo(T0, 2);
    const stream = h.client.fetchX509Svid();
    expect(leafOf(await stream.message(1)).subjectAltName).toBe(`URI:${ID}`);
  });

  it('ends the stream with Unavailable when the SVID expires while renewal fails, PermissionDenied once the server refuses', async () => {
    const handle = await h.start();
    await h.advanceTo(T0, 2);
    const stream = h.client.fetchX509Svid();
    await stream.message(1);
    h.server.failure = new ServerRefusal('ERR_CA_UNAVAILABLE', 503, 'POST /v1/svid/x509: 503');
    await h.advanceTo(handle.state.svid!.renewAt, 1);
    expect(stream.status).toBeUndefined(); // still valid: served as long as the files are
    await h.advanceTo(handle.state.svid!.expiresAt);
    expect(await stream.ended()).toMatchObject({ code: status.UNAVAILABLE });
    expect((await h.client.fetchX509Svid().ended()).details).toMatch(
      /^ERR_WORKLOADAPI_SVID_UNAVAILABLE: /,
    );

    h.server.failure = new ServerRefusal(
      'ERR_POLICY_NO_REGISTRATION',
      403,
      'POST /v1/svid/x509: 403',
    );
    await h.advanceTo(h.timers.earliest()!.due, 1);
    const refused = await h.client.fetchX509Svid().ended();
    expect(refused.code).toBe(status.PERMISSION_DENIED);
    expect(refused.details).toContain('ERR_POLICY_NO_REGISTRATION');
    // The bundle is still the trust domain's: FetchX509Bundles keeps serving it.
    const bundles = h.client.fetchX509Bundles();
    expect(Object.keys((await bundles.message(1)).bundles)).toEqual([TRUST_DOMAIN_ID]);
  });

  it('streams the X.509 bundle and sends a new one after a CA rotation', async () => {
    const handle = await h.start();
    await h.advanceTo(T0, 2);
    const bundles = h.client.fetchX509Bundles();
    const first = await bundles.message(1);
    expect(first.crl).toEqual([]);
    expect(
      first.bundles[TRUST_DOMAIN_ID]!.equals(new X509Certificate(h.server.pki.bundlePem).raw),
    ).toBe(true);
    // A renewal with the same CA changes nothing for bundle watchers.
    await h.advanceTo(handle.state.svid!.renewAt, 1);
    await waitFor('renewed', () => h.attempts.filter((a) => a.credential === 'svid').length === 2);
    expect(bundles.messages).toHaveLength(1);

    h.server.pki = await createTestPki(h.clock);
    await h.advanceTo(handle.state.svid!.renewAt, 1);
    const second = await bundles.message(2);
    expect(
      second.bundles[TRUST_DOMAIN_ID]!.equals(new X509Certificate(h.server.pki.bundlePem).raw),
    ).toBe(true);
  });
});
