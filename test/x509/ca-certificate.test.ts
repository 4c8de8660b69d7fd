// CA certificate templates: the self-signed root and the intermediate under an upstream CA.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildIntermediateCa,
  buildSelfSignedCa,
  generateKeyPair,
  prepareAuthority,
} from '../../src/x509/index.js';
import { caughtAsync, hasOpenssl, makeRoot, openssl, T0 } from './x509-helpers.js';
import { ManualClock } from '../doubles/manual-clock.js';

describe('buildSelfSignedCa', async () => {
  const root = await makeRoot('ec-p256', { td: 'example.org', ttlSeconds: 86_400 });
  const cert = new X509Certificate(root.certificatePem);

  it('is a self-signed CA whose only SAN is the trust domain ID', () => {
    expect(cert.ca).toBe(true);
    expect(cert.subjectAltName).toBe('URI:spiffe://example.org');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.subject).toContain('O=Hallmark');
    expect(cert.subject).toContain('CN=Hallmark CA');
    // successive CAs get distinct names through the serialNumber attribute
    expect(cert.subject).toContain(`serialNumber=${cert.serialNumber.toLowerCase()}`);
  });

  it('is valid from 10 s before now for the TTL', () => {
    expect(new Date(cert.validFrom).getTime()).toBe(T0 - 10_000);
    expect(new Date(cert.validTo).getTime()).toBe(T0 + 86_400_000);
  });

  it.skipIf(!hasOpenssl)('has critical basicConstraints and keyUsage, and a key identifier', () => {
    const text = openssl(['x509', '-noout', '-text'], root.certificatePem);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE\s/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\s/);
    expect(text).toMatch(/Subject Key Identifier:\s+[0-9A-F:]{59}/);
    expect(text).not.toContain('Digital Signature');
  });

  it.each(['ec-p384', 'rsa-3072', 'ed25519'] as const)('works with a %s key', async (type) => {
    const ca = await makeRoot(type);
    const c = new X509Certificate(ca.certificatePem);
    expect(c.verify(c.publicKey)).toBe(true);
    expect(prepareAuthority(ca).selfSigned).toBe(true);
  });

  it('takes a subject CN and refuses bad parameters', async () => {
    const keyPair = generateKeyPair('ec-p256');
    const clock = new ManualClock(T0);
    const named = await buildSelfSignedCa({
      trustDomain: 'td',
      keyPair,
      ttlSeconds: 60,
      clock,
      subjectCommonName: 'Ops CA',
    });
    expect(new X509Certificate(named).subject).toContain('CN=Ops CA');
    const bad = async (over: object) =>
      (
        await caughtAsync(
          async () =>
            await buildSelfSignedCa({ trustDomain: 'td', keyPair, ttlSeconds: 60, clock, ...over }),
        )
      ).code;
    expect(await bad({ subjectCommonName: 'x'.repeat(65) })).toBe('ERR_X509_TEMPLATE_INVALID');
    expect(await bad({ subjectCommonName: '' })).toBe('ERR_X509_TEMPLATE_INVALID');
    expect(await bad({ ttlSeconds: 0 })).toBe('ERR_X509_TEMPLATE_INVALID');
    expect(await bad({ trustDomain: 'Bad.Domain' })).toBe('ERR_SPIFFE_TRUST_DOMAIN_INVALID');
    expect(
      await bad({
        keyPair: {
          publicKey: keyPair.publicKey,
          privateKey: generateKeyPair('ec-p256').privateKey,
        },
      }),
    ).toBe('ERR_X509_TEMPLATE_INVALID');
  });
});

describe('buildIntermediateCa', async () => {
  const upstream = await makeRoot('rsa-2048', { td: 'corp.example', ttlSeconds: 365 * 86_400 });
  const keyPair = generateKeyPair('ec-p256');
  const clock = new ManualClock(T0 + 3600_000);
  const pem = await buildIntermediateCa({
    trustDomain: 'hallmark.local',
    keyPair,
    upstream,
    ttlSeconds: 86_400,
    clock,
  });
  const cert = new X509Certificate(pem);
  const upstreamCert = new X509Certificate(upstream.certificatePem);

  it('is a CA for the trust domain, issued by the upstream', () => {
    expect(cert.ca).toBe(true);
    expect(cert.subjectAltName).toBe('URI:spiffe://hallmark.local');
    expect(cert.checkIssued(upstreamCert)).toBe(true);
    expect(cert.verify(upstreamCert.publicKey)).toBe(true);
    expect(cert.issuer).toBe(upstreamCert.subject);
    expect(cert.subject).toContain('CN=Hallmark intermediate CA');
    expect(new Date(cert.validTo).getTime()).toBe(T0 + 3600_000 + 86_400_000);
  });

  it('as an authority, puts itself in the chain after the leaf', () => {
    const prepared = prepareAuthority({
      certificatePem: pem,
      privateKey: keyPair.privateKey,
      chainPem: [],
    });
    expect(prepared.selfSigned).toBe(false);
    expect(prepared.pathLength).toBe(0);
    expect(prepared.chainPem).toEqual([pem]);
  });

  it.skipIf(!hasOpenssl)('limits the path length and identifies the upstream key', () => {
    const text = openssl(['x509', '-noout', '-text'], pem);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0\s/);
    expect(text).toContain('Authority Key Identifier');
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
  });

  it('caps notAfter at the upstream notAfter', async () => {
    const short = await makeRoot('ec-p256', { ttlSeconds: 7200 });
    const capped = await buildIntermediateCa({
      trustDomain: 'hallmark.local',
      keyPair,
      upstream: short,
      ttlSeconds: 86_400,
      clock,
    });
    expect(new X509Certificate(capped).validTo).toBe(
      new X509Certificate(short.certificatePem).validTo,
    );
  });

  it('refuses an upstream that cannot sign CAs', async () => {
    const build = async (up: Parameters<typeof buildIntermediateCa>[0]['upstream'], at = clock) =>
      (
        await caughtAsync(
          async () =>
            await buildIntermediateCa({
              trustDomain: 'hallmark.local',
              keyPair,
              upstream: up,
              ttlSeconds: 60,
              clock: at,
            }),
        )
      ).code;
    // an intermediate with pathLenConstraint 0 may only sign leaves
    expect(await build({ certificatePem: pem, privateKey: keyPair.privateKey, chainPem: [] })).toBe(
      'ERR_CA_UPSTREAM_INVALID',
    );
    // a key that is not the certificate's
    expect(await build({ ...upstream, privateKey: generateKeyPair('rsa-2048').privateKey })).toBe(
      'ERR_CA_UPSTREAM_INVALID',
    );
    // expired
    expect(await build(upstream, new ManualClock(T0 + 366 * 86_400_000))).toBe(
      'ERR_CA_UPSTREAM_INVALID',
    );
    // garbage
    expect(
      await build({
        ...upstream,
        certificatePem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n',
      }),
    ).toBe('ERR_CA_UPSTREAM_INVALID');
  });
});
