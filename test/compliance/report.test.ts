// Reports: canonical form and digest, the detached JWS and its verification, Markdown and HTML.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ReportSignatureError,
  buildReport,
  canonicalReport,
  certificateFacts,
  cipherWeakness,
  evaluateControls,
  renderHtml,
  renderMarkdown,
  reportDigest,
  signReport,
  verifyReport,
  type ComplianceReport,
  type ReportSigner,
} from '../../src/compliance/index.js';
import { compliantSnapshot } from './snapshot-fixture.js';

async function testSigner(
  kid: string,
  alg = 'ES256',
): Promise<{ signer: ReportSigner; jwks: JSONWebKeySet }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    signer: {
      signCompact: (payload) =>
        new CompactSign(payload).setProtectedHeader({ alg, kid }).sign(privateKey),
    },
    jwks: { keys: [jwk] },
  };
}

function report(): ComplianceReport {
  const snapshot = compliantSnapshot();
  return buildReport(snapshot, evaluateControls(snapshot));
}

describe('report signatures (detached JWS, RFC 7515 Appendix F)', () => {
  it('verify against the key set, and fail once anything in the report changes', async () => {
    const { signer, jwks } = await testSigner('checkpoint-1');
    const signed = await signReport(report(), signer);
    expect(signed.signature?.jws).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(await verifyReport(signed, jwks)).toEqual({ kid: 'checkpoint-1', alg: 'ES256' });
    // A round trip through JSON (as a file) keeps it valid: the payload is canonical.
    const reread = JSON.parse(JSON.stringify(signed, null, 2)) as ComplianceReport;
    expect(await verifyReport(reread, jwks)).toMatchObject({ kid: 'checkpoint-1' });

    const tampered = structuredClone(reread) as {
      controls: { status: string }[];
    } & ComplianceReport;
    tampered.controls[0]!.status = 'fail';
    await expect(verifyReport(tampered, jwks)).rejects.toMatchObject({ code: 'bad-signature' });
  });

  it('refuse an unknown key, an unsigned report and a payload smuggled into the JWS', async () => {
    const { signer } = await testSigner('checkpoint-1');
    const { jwks: other } = await testSigner('checkpoint-2');
    const signed = await signReport(report(), signer);
    await expect(verifyReport(signed, other)).rejects.toMatchObject({ code: 'unknown-key' });
    await expect(verifyReport(report(), other)).rejects.toBeInstanceOf(ReportSignatureError);
    await expect(verifyReport(report(), other)).rejects.toMatchObject({ code: 'unsigned' });
    const [h, , s] = signed.signature!.jws.split('.');
    const attached = { ...signed, signature: { ...signed.signature!, jws: `${h}.e30.${s}` } };
    await expect(verifyReport(attached, other)).rejects.toMatchObject({ code: 'malformed' });
  });

  it('the digest is of the canonical report without its signature', async () => {
    const unsigned = report();
    const { signer } = await testSigner('k');
    const signed = await signReport(unsigned, signer);
    expect(reportDigest(signed)).toBe(reportDigest(unsigned));
    expect(reportDigest(unsigned)).toMatch(/^[0-9a-f]{64}$/);
    const text = canonicalReport(unsigned).toString('utf8');
    expect(text.startsWith('{"controls":[')).toBe(true); // RFC 8785: keys sorted
    expect(text).not.toContain('\n');
  });
});

describe('report rendering', () => {
  const hostile = (): ComplianceReport => {
    const r = report();
    return {
      ...r,
      installation: { ...r.installation, trustDomain: '<script>alert(1)</script>' },
      controls: r.controls.map((c, i) =>
        i === 0
          ? {
              ...c,
              status: 'fail',
              reason: '"><img src=x onerror=alert(1)> | *bold*',
              evidence: { file: '<b>&' },
            }
          : c,
      ),
    };
  };

  it('HTML is one self-contained page with every value escaped', () => {
    const html = renderHtml(hostile());
    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<link|src="http|<script/);
    expect(html).toContain("default-src 'none'");
    for (const c of report().controls) expect(html).toContain(`id="${c.id}"`);
  });

  it('Markdown lists every control with its references, evidence and, when failing, the remediation', () => {
    const md = renderMarkdown(hostile());
    expect(md).toContain('\\<script\\>');
    expect(md).toContain('\\| \\*bold\\*');
    const r = report();
    for (const c of r.controls) {
      expect(md).toContain(`## ${c.id} `);
      expect(md).toContain(`PCI DSS v4.0 ${c.references.pciDss.join(', ')}`);
    }
    expect(md).toMatch(/- Remediation: /);
  });

  it('say why a report is unsigned, in Markdown and HTML', () => {
    expect(renderMarkdown(report())).toMatch(
      /^- Signature: unsigned: no signature is attached, so hallmark compliance verify refuses it/m,
    );
    expect(renderHtml(report())).toMatch(/; unsigned: no signature is attached/);
  });
});

describe('certificate facts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hallmark-certs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function openssl(name: string, args: string[]): string {
    const file = path.join(dir, `${name}.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-nodes',
        '-keyout',
        path.join(dir, `${name}.key`),
        '-out',
        file,
        '-subj',
        `/CN=${name}`,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    return readFileSync(file, 'utf8');
  }

  it('read key strength and signature hash per SP 800-57 from real certificates', () => {
    expect(
      certificateFacts(openssl('rsa2048sha1', ['-newkey', 'rsa:2048', '-sha1', '-days', '5'])),
    ).toMatchObject({
      subject: 'CN=rsa2048sha1',
      keyDescription: 'RSA 2048',
      keyStrengthBits: 112,
      signatureAlgorithm: 'sha1WithRSAEncryption',
      signatureHashStrengthBits: 63,
    });
    expect(
      certificateFacts(
        openssl('p384', [
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-384',
          '-sha384',
          '-days',
          '1',
        ]),
      ),
    ).toMatchObject({
      keyDescription: 'EC secp384r1',
      keyStrengthBits: 192,
      signatureAlgorithm: 'ecdsa-with-SHA384',
      signatureHashStrengthBits: 192,
    });
    expect(
      certificateFacts(
        openssl('pss', [
          '-newkey',
          'rsa:3072',
          '-sigopt',
          'rsa_padding_mode:pss',
          '-sha256',
          '-days',
          '1',
        ]),
      ),
    ).toMatchObject({
      keyStrengthBits: 128,
      signatureAlgorithm: 'RSASSA-PSS with SHA-256',
      signatureHashStrengthBits: 128,
    });
    expect(certificateFacts(openssl('ed', ['-newkey', 'ed25519', '-days', '1']))).toMatchObject({
      keyDescription: 'Ed25519',
      signatureAlgorithm: 'Ed25519',
    });
  });
});

describe('TLS 1.2 cipher suites', () => {
  it('accept forward-secret AEAD suites only', () => {
    for (const good of [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-CHACHA20-POLY1305',
      'DHE-RSA-AES256-GCM-SHA384',
    ]) {
      expect(cipherWeakness(good), good).toBeUndefined();
    }
    expect(cipherWeakness('AES128-GCM-SHA256')).toMatch(/forward secrecy/);
    expect(cipherWeakness('ECDHE-RSA-AES128-SHA256')).toMatch(/CBC mode, not AEAD/);
    expect(cipherWeakness('ECDHE-ECDSA-AES256-SHA')).toMatch(/SHA-1 MAC/);
    expect(cipherWeakness('DES-CBC3-SHA')).toMatch(/broken/);
    expect(cipherWeakness('ECDHE-PSK-CHACHA20-POLY1305')).toMatch(/certificate authentication/);
  });
});
