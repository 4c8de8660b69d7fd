// The federation poller on PostgreSQL against a bundle endpoint the test controls (real TLS on
// 127.0.0.1): bootstrap, newer bundles kept, every refusal audited with the last good bundle
// kept, one replica at a time, restarts, relationships dropped and re-bootstrapped, an outage.
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import type { Database } from '../../src/db/index.js';
import {
  FederatedBundleCache,
  FederationPoller,
  bootstrapFingerprint,
  federationMetrics,
  parseBootstrapBundle,
  type FederationRelationship,
} from '../../src/federation/index.js';
import { auditSettled } from '../helpers/audit-settled.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { createTestPki, type TestPki } from '../sidecar/test-pki.js';
import { waitFor } from '../sidecar/wait-for.js';
import { ManualClock } from '../doubles/manual-clock.js';

const silent = { info: () => undefined, warn: () => undefined };

function x509Entry(pem: string): Record<string, unknown> {
  const cert = new X509Certificate(pem);
  return {
    ...cert.publicKey.export({ format: 'jwk' }),
    use: 'x509-svid',
    x5c: [cert.raw.toString('base64')],
  };
}

describe('the federation poller', () => {
  const clock = new ManualClock(Date.now());
  let db: Database;
  let b: TestPki;
  let server: Server;
  let url: string;
  /** What the endpoint answers next. */
  let answer = '';
  let delayMs = 0;
  let relationships: FederationRelationship[];
  const replicas: { poller: FederationPoller; cache: FederatedBundleCache }[] = [];
  let registry: Registry;

  const bundleOf = (sequence: number | undefined, pems: string[], hint = 10) =>
    JSON.stringify({
      keys: pems.map(x509Entry),
      spiffe_sequence: sequence,
      spiffe_refresh_hint: hint,
    });

  async function replica(): Promise<{ poller: FederationPoller; cache: FederatedBundleCache }> {
    const cache = await FederatedBundleCache.open(db);
    registry = new Registry();
    const poller = new FederationPoller({
      db,
      audit: new PgAuditLog(db, clock),
      clock,
      log: silent,
      cache,
      relationships: () => relationships,
      observer: federationMetrics(registry, cache),
    });
    replicas.push({ poller, cache });
    return { poller, cache };
  }

  async function auditRows(): Promise<
    { action: string; target: string; outcome: string; reason: string }[]
  > {
    await auditSettled(db);
    const rows = await db.query(
      "SELECT action, target, outcome, reason FROM audit_log WHERE action LIKE 'federation.%' ORDER BY seq",
    );
    return rows.rows as never;
  }

  /** Makes the endpoint due and runs one round on `poller`. */
  async function round(poller: FederationPoller): Promise<void> {
    clock.advance(60_000);
    expect(await poller.refresh()).toBe(true);
  }

  beforeAll(async () => {
    ({ db } = await createMigratedDatabase());
    b = await createTestPki(clock, 'b.test');
    server = createServer({ cert: b.serverCertPem, key: b.serverKeyPem }, (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1/bundle`;
    const bootstrap = parseBootstrapBundle(b.bundlePem);
    relationships = [
      {
        trustDomain: 'b.test',
        bundleEndpointUrl: url,
        profile: 'https_spiffe',
        endpointSpiffeId: 'spiffe://b.test/hallmark/server',
        bootstrapBundle: bootstrap,
        bootstrapSha256: bootstrapFingerprint(bootstrap),
      },
    ];
  });

  afterAll(async () => {
    for (const { poller, cache } of replicas) {
      await poller.stop();
      cache.close();
    }
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  it('bootstraps, then keeps the fetched bundle; refusals are audited and change nothing', async () => {
    const { poller, cache } = await replica();
    answer = bundleOf(5, [b.bundlePem]);
    expect(await poller.refresh()).toBe(true);
    expect(cache.bundle('b.test')?.sequence).toBe(5);
    expect(await auditRows()).toEqual([
      {
        action: 'federation.bundle.bootstrapped',
        target: 'b.test',
        outcome: 'success',
        reason: '',
      },
      {
        action: 'federation.bundle.updated',
        target: 'b.test sequence=5',
        outcome: 'success',
        reason: '',
      },
    ]);
    // Not due again before half the hint (10 s).
    clock.advance(4_000);
    const before = cache.rows()[0]!;
    expect(await poller.refresh()).toBe(true);
    expect(cache.rows()[0]!.lastSuccessAt).toBe(before.lastSuccessAt);

    const c = await createTestPki(clock, 'c.test');
    const rotatedB = await createTestPki(clock, 'b.test');
    const hostile: [string, string][] = [
      [bundleOf(4, [rotatedB.bundlePem]), 'ERR_FEDERATION_BUNDLE_SEQUENCE_REGRESSED'],
      ['{"keys": [', 'ERR_FEDERATION_BUNDLE_MALFORMED'],
      [bundleOf(9, [c.bundlePem]), 'ERR_FEDERATION_BUNDLE_TRUST_DOMAIN_MISMATCH'],
    ];
    for (const [body, code] of hostile) {
      answer = body;
      await round(poller);
      const rows = await auditRows();
      expect(rows.at(-1)).toMatchObject({
        action: 'federation.bundle.refused',
        outcome: 'denied',
        reason: code,
      });
      expect(rows.at(-1)!.target).toBe(`b.test ${url}`);
      expect(cache.bundle('b.test')?.sequence).toBe(5);
      expect(cache.rows()[0]).toMatchObject({ lastError: code });
    }
    // A certificate that does not match the profile: an SVID of another CA on the endpoint.
    const impostor = await createTestPki(clock, 'b.test');
    server.setSecureContext({ cert: impostor.serverCertPem, key: impostor.serverKeyPem });
    answer = bundleOf(10, [impostor.bundlePem]);
    await round(poller);
    expect((await auditRows()).at(-1)).toMatchObject({
      reason: 'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED',
    });
    server.setSecureContext({ cert: b.serverCertPem, key: b.serverKeyPem });
    expect(cache.bundle('b.test')?.x509Authorities).toHaveLength(1);
    const metrics = await registry.getSingleMetricAsString(
      'hallmark_federation_refresh_errors_total',
    );
    expect(metrics).toContain('code="ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED"');

    // B rotates: the next bundle (both CAs, higher sequence) is kept.
    answer = bundleOf(6, [b.bundlePem, rotatedB.bundlePem]);
    await round(poller);
    expect(cache.bundle('b.test')?.sequence).toBe(6);
    expect(cache.bundle('b.test')?.x509Authorities).toHaveLength(2);
    expect(cache.rows()[0]).toMatchObject({ failures: 0 });
    expect(await registry.getSingleMetricAsString('hallmark_federation_bundle_sequence')).toContain(
      'hallmark_federation_bundle_sequence{trust_domain="b.test"} 6',
    );
  });

  it('runs on one replica at a time and survives a restart', async () => {
    const second = await replica();
    expect(second.cache.bundle('b.test')?.sequence).toBe(6);
    const first = replicas[0]!;
    answer = bundleOf(7, [b.bundlePem]);
    delayMs = 300;
    clock.advance(60_000);
    const ran = await Promise.all([first.poller.refresh(), second.poller.refresh()]);
    delayMs = 0;
    expect(ran.filter(Boolean)).toHaveLength(1);
    // The replica that did not run learns of it by NOTIFY (its timer is 30 s away).
    for (const { cache } of [first, second]) {
      await waitFor(
        'sequence 7 on both replicas',
        () => cache.bundle('b.test')?.sequence === 7,
        10_000,
      );
    }
    const updates = (await auditRows()).filter((row) => row.target === 'b.test sequence=7');
    expect(updates).toHaveLength(1);
    // Whichever replica ran kept building on the fetched bundle: the operator's bootstrap
    // bundle (the same policy) was not brought back over it.
    const bootstraps = (await auditRows()).filter(
      (row) => row.action === 'federation.bundle.bootstrapped',
    );
    expect(bootstraps).toHaveLength(1);
  });

  it('re-bootstraps on a new bootstrap bundle and forgets a dropped relationship', async () => {
    const { poller, cache } = replicas[0]!;
    const next = await createTestPki(clock, 'b.test');
    const bootstrap = parseBootstrapBundle(next.bundlePem);
    relationships = [
      {
        ...relationships[0]!,
        bootstrapBundle: bootstrap,
        bootstrapSha256: bootstrapFingerprint(bootstrap),
      },
    ];
    // The endpoint still presents the old serving certificate: the new bootstrap cannot
    // authenticate it, so the operator's bundle is what is kept.
    expect(await poller.refresh()).toBe(true);
    expect(cache.rows()[0]).toMatchObject({
      source: 'bootstrap',
      lastError: 'ERR_FEDERATION_ENDPOINT_UNAUTHENTICATED',
    });
    expect(cache.bundle('b.test')?.sequence).toBeUndefined();
    expect(
      (await auditRows()).some(
        (row) => row.action === 'federation.bundle.bootstrapped' && row.target === 'b.test',
      ),
    ).toBe(true);

    relationships = [];
    expect(await poller.refresh()).toBe(true);
    expect(cache.rows()).toEqual([]);
    expect((await auditRows()).at(-1)).toMatchObject({
      action: 'federation.bundle.removed',
      target: 'b.test',
    });
  });

  it('keeps the last good bundle while the endpoint is down, counts every failure, audits the outage once', async () => {
    const { poller, cache } = await replica();
    const bootstrap = parseBootstrapBundle(b.bundlePem);
    const up: FederationRelationship = {
      trustDomain: 'b.test',
      bundleEndpointUrl: url,
      profile: 'https_spiffe',
      endpointSpiffeId: 'spiffe://b.test/hallmark/server',
      bootstrapBundle: bootstrap,
      bootstrapSha256: bootstrapFingerprint(bootstrap),
    };
    relationships = [up];
    answer = bundleOf(8, [b.bundlePem]);
    expect(await poller.refresh()).toBe(true);
    expect(cache.bundle('b.test')?.sequence).toBe(8);

    // Nothing listens on the port any more.
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const down = `https://127.0.0.1:${deadPort}/v1/bundle`;
    relationships = [{ ...up, bundleEndpointUrl: down }];
    const outage = () =>
      auditRows().then((rows) => rows.filter((row) => row.target === `b.test ${down}`));
    await round(poller);
    await round(poller);
    expect(await outage()).toEqual([
      {
        action: 'federation.bundle.refused',
        target: `b.test ${down}`,
        outcome: 'error',
        reason: 'ERR_FEDERATION_ENDPOINT_UNREACHABLE',
      },
    ]);
    expect(cache.bundle('b.test')?.sequence).toBe(8);
    expect(cache.rows()[0]).toMatchObject({
      failures: 2,
      lastError: 'ERR_FEDERATION_ENDPOINT_UNREACHABLE',
    });
    expect(
      await registry.getSingleMetricAsString('hallmark_federation_refresh_errors_total'),
    ).toContain(
      'hallmark_federation_refresh_errors_total{trust_domain="b.test",code="ERR_FEDERATION_ENDPOINT_UNREACHABLE"} 2',
    );

    // Back up: the next bundle is kept and the failures are forgotten.
    relationships = [up];
    answer = bundleOf(9, [b.bundlePem]);
    await round(poller);
    expect(cache.bundle('b.test')?.sequence).toBe(9);
    expect(cache.rows()[0]).toMatchObject({ failures: 0 });
  });
});
