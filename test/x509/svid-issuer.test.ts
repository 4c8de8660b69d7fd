// X509-SVID issuance: what the certificate says, what it ignores, and how lifetimes are bounded.
import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSpiffeId, type SpiffeId } from '../../src/spiffe/index.js';
import {
  BACKDATE_SECONDS,
  buildCsr,
  generateKeyPair,
  issueServerSvid,
  issueX509Svid,
  KEY_TYPES,
  prepareAuthority,
  type KeyType,
} from '../../src/x509/index.js';
import { randomSerial } from '../../src/x509/certificate-builder.js';
import { parseCertificate } from '../../src/x509/parsed-certificate.js';
import { decodeSinglePem } from '../../src/x509/pem.js';
import { caught, caughtAsync, fixture, hasOpenssl, makeRoot, openssl, T0 } from './x509-helpers.js';
import { ManualClock } from '../doubles/manual-clock.js';

const ID = parseSpiffeId('spiffe://hallmark.local/ns/payments/sa/api');
const root = await makeRoot('ec-p256', { ttlSeconds: 30 * 86_400 });

async function issue(csrPem: string, overrides: Partial<Parameters<typeof issueX509Svid>[0]> = {}) {
  return await issueX509Svid({
    csrPem,
    spiffeId: ID,
    ttlSeconds: 3600,
    authority: root,
    clock: new ManualClock(T0 + 60_000),
    ...overrides,
  });
}

function extensionIds(pem: string): string[] {
  return [...parseCertificate(decodeSinglePem(pem, ['CERTIFICATE'])).extensions.all.keys()];
}

describe('issueX509Svid: the certificate', async () => {
  const csr = buildCsr(generateKeyPair('ec-p256'));
  const svid = await issue(csr);
  const cert = new X509Certificate(svid.certificatePem);
  const caCert = new X509Certificate(root.certificatePem);

  it('names exactly one URI SAN, the SPIFFE ID', () => {
    expect(cert.subjectAltName).toBe(`URI:${ID.toString()}`);
    expect(svid.spiffeId).toBe(ID.toString());
  });

  it('is a leaf signed by the CA', () => {
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.issuer).toBe(caCert.subject);
    // a self-signed root is in the bundle, so the chain is the leaf alone
    expect(svid.chainPem).toEqual([svid.certificatePem]);
  });

  it('backdates notBefore 10 s and ends after the TTL', () => {
    const issuedAt = T0 + 60_000;
    expect(svid.notBefore.getTime()).toBe(issuedAt - BACKDATE_SECONDS * 1000);
    expect(svid.notAfter.getTime()).toBe(issuedAt + 3600 * 1000);
    expect(new Date(cert.validFrom).getTime()).toBe(svid.notBefore.getTime());
    expect(new Date(cert.validTo).getTime()).toBe(svid.notAfter.getTime());
  });

  it('reports serial and key fingerprint as the certificate has them', () => {
    expect(svid.serialHex).toBe(cert.serialNumber.toLowerCase());
    expect(svid.serialHex).toMatch(/^[0-9a-f]{2,32}$/);
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    expect(svid.publicKeyFingerprint).toBe(createHash('sha256').update(spki).digest('hex'));
  });

  it('has the X509-SVID extensions and no others', () => {
    expect(extensionIds(svid.certificatePem).sort()).toEqual(
      ['2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.35', '2.5.29.37'].sort(),
    );
  });

  it.skipIf(!hasOpenssl)('reads as intended in OpenSSL', () => {
    const text = openssl(['x509', '-noout', '-text'], svid.certificatePem);
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toMatch(/Subject:\s*\n/);
    expect(text).toMatch(
      /Subject Alternative Name: critical\s+URI:spiffe:\/\/hallmark\.local\/ns\/payments\/sa\/api\s/,
    );
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\s/);
    expect(text).toMatch(
      /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    const caText = openssl(['x509', '-noout', '-text'], root.certificatePem);
    const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)![1]!;
    expect(text).toMatch(new RegExp(`Authority Key Identifier:\\s+(keyid:)?${ski}`));
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
  });

  it('uses a fresh positive 128-bit serial each time', async () => {
    const serials = new Set(
      await Promise.all(Array.from({ length: 50 }, async () => (await issue(csr)).serialHex)),
    );
    expect(serials.size).toBe(50);
    for (const serial of serials) {
      expect(serial.length).toBeLessThanOrEqual(32);
      expect(BigInt(`0x${serial}`) > 0n).toBe(true);
    }
  });
});

describe('randomSerial', () => {
  it('gives distinct positive serials of at most 16 bytes, unchanged after later ones', () => {
    // More serials than one refill of the random pool holds, so refills are crossed.
    const first = randomSerial();
    const kept = Buffer.from(first);
    const serials = Array.from({ length: 1000 }, () => randomSerial());
    expect(first.equals(kept)).toBe(true);
    const hexes = new Set([first, ...serials].map((s) => s.toString('hex')));
    expect(hexes.size).toBe(1001);
    for (const serial of serials) {
      expect(serial.length).toBeGreaterThan(0);
      expect(serial.length).toBeLessThanOrEqual(16);
      expect(serial[0]).not.toBe(0);
    }
  });
});

describe('issueX509Svid: the CSR contributes its key and nothing else', async () => {
  const svid = await issue(fixture('csr-p256-requests-ca-and-sans.pem'));
  const cert = new X509Certificate(svid.certificatePem);

  it('ignores the requested CA flag, SANs, key usages, subject and other extensions', () => {
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe(`URI:${ID.toString()}`);
    expect(cert.subject).toBeFalsy();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    const ids = extensionIds(svid.certificatePem);
    expect(ids).not.toContain('2.5.29.30'); // nameConstraints
    expect(ids).not.toContain('1.2.3.4.5');
    expect(svid.certificatePem).not.toMatch(/evil|kube-system|admin|masters/);
    const text = cert.toString();
    expect(text).not.toMatch(/evil|kube-system|admin|masters/);
  });
});

describe('issueX509Svid: key types', () => {
  it.each(KEY_TYPES)('issues for a %s CSR', async (type: KeyType) => {
    const keyPair = generateKeyPair(type);
    const svid = await issue(buildCsr(keyPair));
    const cert = new X509Certificate(svid.certificatePem);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      keyPair.publicKey.export({ type: 'spki', format: 'der' }),
    );
    expect(cert.subjectAltName).toBe(`URI:${ID.toString()}`);
  });

  it.each([
    ['csr-p384-sha384.pem'],
    ['csr-rsa3072.pem'],
    ['csr-rsa2048-pss.pem'],
    ['csr-ed25519.pem'],
  ])('issues for OpenSSL CSR %s', async (name) => {
    expect(new X509Certificate((await issue(fixture(name))).certificatePem).ca).toBe(false);
  });

  it.skipIf(!hasOpenssl)('adds keyEncipherment for RSA keys only', async () => {
    const rsa = openssl(
      ['x509', '-noout', '-text'],
      (await issue(fixture('csr-rsa3072.pem'))).certificatePem,
    );
    expect(rsa).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment\s/);
    const ec = openssl(
      ['x509', '-noout', '-text'],
      (await issue(fixture('csr-p384-sha384.pem'))).certificatePem,
    );
    expect(ec).toMatch(/Key Usage: critical\s+Digital Signature\s/);
  });

  it.each([
    ['ec-p384', 'ecdsa-with-SHA384'],
    ['rsa-2048', 'sha256WithRSAEncryption'],
    ['ed25519', 'ED25519'],
  ] as const)('signs with a %s CA using %s', async (caType, algorithm) => {
    const ca = await makeRoot(caType);
    const svid = await issue(buildCsr(generateKeyPair('ec-p256')), { authority: ca });
    const cert = new X509Certificate(svid.certificatePem);
    expect(cert.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
    if (hasOpenssl) {
      expect(openssl(['x509', '-noout', '-text'], svid.certificatePem)).toContain(
        `Signature Algorithm: ${algorithm}`,
      );
    }
  });
});

describe('issueX509Svid: lifetimes', () => {
  const csr = buildCsr(generateKeyPair('ec-p256'));

  it('caps notAfter at the CA notAfter', async () => {
    const shortCa = await makeRoot('ec-p256', { ttlSeconds: 1800 });
    const caNotAfter = new Date(new X509Certificate(shortCa.certificatePem).validTo).getTime();
    const svid = await issue(csr, { authority: shortCa, ttlSeconds: 86_400 });
    expect(svid.notAfter.getTime()).toBe(caNotAfter);
  });

  it('never starts before the CA', async () => {
    const svid = await issue(csr, { clock: new ManualClock(T0) });
    const caNotBefore = new Date(new X509Certificate(root.certificatePem).validFrom).getTime();
    expect(svid.notBefore.getTime()).toBe(caNotBefore);
  });

  it('truncates times to whole seconds', async () => {
    const svid = await issue(csr, { clock: new ManualClock(T0 + 61_500) });
    expect(svid.notBefore.getTime()).toBe(T0 + 51_000);
    expect(svid.notAfter.getTime()).toBe(T0 + 61_000 + 3600_000);
  });

  it('refuses to sign with an expired or not yet valid CA', async () => {
    const late = new ManualClock(T0 + 31 * 86_400_000);
    expect((await caughtAsync(async () => await issue(csr, { clock: late }))).code).toBe(
      'ERR_CA_UNAVAILABLE',
    );
    const early = new ManualClock(T0 - 3600_000);
    expect((await caughtAsync(async () => await issue(csr, { clock: early }))).code).toBe(
      'ERR_CA_UNAVAILABLE',
    );
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses TTL %s',
    async (ttlSeconds) => {
      expect((await caughtAsync(async () => await issue(csr, { ttlSeconds }))).code).toBe(
        'ERR_X509_TEMPLATE_INVALID',
      );
    },
  );
});

describe('issueX509Svid: identities', () => {
  const csr = buildCsr(generateKeyPair('ec-p256'));

  it('refuses an ID outside the CA trust domain', async () => {
    const spiffeId = parseSpiffeId('spiffe://other.example/ns/a/sa/b');
    expect((await caughtAsync(async () => await issue(csr, { spiffeId }))).code).toBe(
      'ERR_X509_TEMPLATE_INVALID',
    );
  });

  it('refuses the trust domain ID itself (a leaf needs a path, X509-SVID §3.1)', async () => {
    const spiffeId = parseSpiffeId('spiffe://hallmark.local');
    expect((await caughtAsync(async () => await issue(csr, { spiffeId }))).code).toBe(
      'ERR_X509_TEMPLATE_INVALID',
    );
  });

  it('revalidates a hand-made SpiffeId object', async () => {
    const forged: SpiffeId = {
      trustDomain: 'hallmark.local',
      path: '/../admin',
      toString: () => 'spiffe://hallmark.local/../admin',
    };
    expect((await caughtAsync(async () => await issue(csr, { spiffeId: forged }))).code).toBe(
      'ERR_X509_TEMPLATE_INVALID',
    );
  });

  it('passes CSR errors through', async () => {
    expect((await caughtAsync(async () => await issue(fixture('csr-rsa1024.pem')))).code).toBe(
      'ERR_CSR_UNSUPPORTED_KEY',
    );
    expect((await caughtAsync(async () => await issue('garbage'))).code).toBe('ERR_CSR_MALFORMED');
  });
});

describe('issueServerSvid', () => {
  const keyPair = generateKeyPair('ec-p256');
  const spiffeId = parseSpiffeId('spiffe://hallmark.local/hallmark/server');
  const serve = async (dnsNames: string[], ipAddresses: string[]) =>
    await issueServerSvid({
      spiffeId,
      publicKey: keyPair.publicKey,
      dnsNames,
      ipAddresses,
      ttlSeconds: 86_400,
      authority: root,
      clock: new ManualClock(T0 + 60_000),
    });

  it('carries the URI SAN plus DNS and IP SANs', async () => {
    const svid = await serve(
      ['localhost', 'Hallmark.Hallmark.svc'],
      ['127.0.0.1', '::1', '2001:db8::10'],
    );
    const cert = new X509Certificate(svid.certificatePem);
    expect(cert.subjectAltName?.startsWith(`URI:${spiffeId.toString()}, `)).toBe(true);
    expect(cert.subjectAltName?.match(/URI:/g)).toHaveLength(1);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('hallmark.hallmark.svc')).toBe('hallmark.hallmark.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIP('2001:db8::10')).toBe('2001:db8::10');
    expect(cert.checkIP('10.0.0.1')).toBeUndefined();
    expect(cert.ca).toBe(false);
  });

  it.each([['*.example.com'], ['bad_name'], ['-a.example'], ['a..b'], [''], ['x'.repeat(64)]])(
    'refuses DNS name %j',
    async (name) => {
      expect((await caughtAsync(async () => await serve([name], []))).code).toBe(
        'ERR_X509_TEMPLATE_INVALID',
      );
    },
  );

  it.each([['256.0.0.1'], ['fe80::1%eth0'], ['localhost']])('refuses IP address %j', async (ip) => {
    expect((await caughtAsync(async () => await serve([], [ip]))).code).toBe(
      'ERR_X509_TEMPLATE_INVALID',
    );
  });
});

describe('prepareAuthority', () => {
  it('reuses the prepared CA for fresh wrapper objects with the same key and certificate', () => {
    const a = prepareAuthority({ ...root });
    const b = prepareAuthority({
      certificatePem: root.certificatePem,
      privateKey: root.privateKey,
      chainPem: [],
    });
    expect(b).toBe(a);
    expect(prepareAuthority(a)).toBe(a);
  });

  it('re-checks when the certificate changes', async () => {
    const a = prepareAuthority(root);
    const other = await makeRoot('ec-p256');
    // same key, another CA's certificate: not served from the cache, and the mismatch is caught
    expect(
      caught(() => prepareAuthority({ ...root, certificatePem: other.certificatePem })).code,
    ).toBe('ERR_CA_UNAVAILABLE');
    const b = prepareAuthority({ ...other });
    expect(b).not.toBe(a);
    expect(b.authority.certificatePem).toBe(other.certificatePem);
    expect(prepareAuthority({ ...root })).toBe(a);
  });

  it('refuses a key that does not match, a public key, and a leaf certificate', async () => {
    const stranger = generateKeyPair('ec-p256');
    expect(caught(() => prepareAuthority({ ...root, privateKey: stranger.privateKey })).code).toBe(
      'ERR_CA_UNAVAILABLE',
    );
    expect(
      caught(() => prepareAuthority({ ...root, privateKey: root.keyPair.publicKey })).code,
    ).toBe('ERR_CA_UNAVAILABLE');
    const leafKey = generateKeyPair('ec-p256');
    const leaf = await issue(buildCsr(leafKey));
    expect(
      caught(() =>
        prepareAuthority({
          certificatePem: leaf.certificatePem,
          privateKey: leafKey.privateKey,
          chainPem: [],
        }),
      ).code,
    ).toBe('ERR_CA_UNAVAILABLE');
    expect(caught(() => prepareAuthority({ ...root, certificatePem: 'nope' })).code).toBe(
      'ERR_CA_UNAVAILABLE',
    );
  });
});
