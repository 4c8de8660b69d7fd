// Transport controls: the listener's protocol versions and cipher suites, and certificate expiry.
import { describeSeconds, fail, isoTime, pass, type Control, type Evidence } from './control.js';

/** Certificates the server cannot renew itself must stay valid at least this long. */
export const MIN_CERTIFICATE_VALIDITY_MS = 7 * 86_400_000;

const AEAD = /-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305|AES(128|256)-CCM)$/;
const BROKEN = /(^|-)(NULL|EXP|EXPORT|RC4|DES|3DES|DES-CBC3|MD5|IDEA|SEED|RC2)(-|$)/;

/**
 * Why a TLS 1.2 suite (OpenSSL name) is not acceptable, or `undefined` when it is: forward
 * secrecy (ECDHE or DHE) with a certificate-authenticated AEAD cipher, as NIST SP 800-52 Rev. 2
 * §3.3.1 prefers.
 */
export function cipherWeakness(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (BROKEN.test(upper)) return 'a broken or export-grade algorithm';
  if (/(^|-)(PSK|SRP|ADH|AECDH|ANON)(-|$)/.test(upper)) return 'no certificate authentication';
  if (!/^(ECDHE|DHE)-/.test(upper)) return 'no forward secrecy (static key exchange)';
  if (!AEAD.test(upper))
    return upper.endsWith('-SHA') ? 'CBC mode with a SHA-1 MAC' : 'CBC mode, not AEAD';
  return undefined;
}

const tlsSettings: Control = {
  id: 'HM-TLS-01',
  area: 'transport',
  title: 'TLS 1.2 or later with strong cipher suites only',
  checks:
    'The HTTPS listener refuses protocol versions below TLS 1.2, and every TLS 1.2 cipher suite it offers (HALLMARK_TLS_CIPHERS or the default list) has ECDHE or DHE key exchange and an AEAD cipher (AES-GCM, ChaCha20-Poly1305, AES-CCM). TLS 1.3 suites are all of that kind.',
  references: {
    pciDss: ['2.2.7', '4.2.1'],
    soc2: ['CC6.7'],
    nist80053: ['SC-8', 'SC-8(1)', 'SC-13'],
  },
  remediation:
    'Unset HALLMARK_TLS_CIPHERS (the default list is compliant) or list only ECDHE-ECDSA-AES128-GCM-SHA256-style suites, and restart the servers.',
  evaluate({ tls }) {
    const weak = tls.ciphers
      .map((name) => ({ name, why: cipherWeakness(name) }))
      .filter((c): c is { name: string; why: string } => c.why !== undefined);
    const evidence: Evidence = { minVersion: tls.minVersion, tls12Ciphers: [...tls.ciphers] };
    const problems: string[] = [];
    if (!['TLSv1.2', 'TLSv1.3'].includes(tls.minVersion))
      problems.push(`the listener accepts ${tls.minVersion}`);
    for (const c of weak) problems.push(`${c.name} offers ${c.why}`);
    return problems.length > 0
      ? fail(problems.join('; '), evidence)
      : pass(
          `${tls.minVersion} or later, ${tls.ciphers.length} TLS 1.2 suite(s), all forward-secret AEAD`,
          evidence,
        );
  },
};

const certificateValidity: Control = {
  id: 'HM-TLS-02',
  area: 'transport',
  title: 'Server certificate chain valid and not about to expire',
  checks: `The certificate the listener presents is within its validity and is renewed on schedule (at half-life); every certificate of the operator's upstream chain, which Hallmark cannot renew, is valid for at least ${describeSeconds(MIN_CERTIFICATE_VALIDITY_MS / 1000)} more; and the Hallmark CA that signs it is valid for at least ${describeSeconds(MIN_CERTIFICATE_VALIDITY_MS / 1000)} (or one sixth of its lifetime, when shorter) or already replaced.`,
  references: {
    pciDss: ['4.2.1', '4.2.1.1'],
    soc2: ['CC6.7'],
    nist80053: ['SC-17', 'SC-8'],
  },
  remediation:
    "Renew the upstream CA certificate named (HALLMARK_UPSTREAM_CA_CERT) and restart the servers; for Hallmark's own CA run hallmark ca rotate --now; for a serving certificate not renewed, restart the server and check its log.",
  evaluate({ tls, ca, now }) {
    const leaf = tls.certificate;
    const evidence: Record<string, Evidence[string]> = {
      serving: {
        subject: leaf.subject,
        notBefore: isoTime(leaf.notBefore),
        notAfter: isoTime(leaf.notAfter),
        renewAt: isoTime(tls.renewAt),
        sha256: leaf.sha256,
      },
      upstream: (ca.upstream ?? []).map((c) => ({
        subject: c.subject,
        notAfter: isoTime(c.notAfter),
      })),
    };
    const problems: string[] = [];
    if (now < leaf.notBefore || now >= leaf.notAfter)
      problems.push(
        `the serving certificate is not valid now (valid ${isoTime(leaf.notBefore)} to ${isoTime(leaf.notAfter)})`,
      );
    else if (now > tls.renewAt + 3_600_000)
      problems.push(`the serving certificate was due for renewal at ${isoTime(tls.renewAt)}`);
    for (const cert of ca.upstream ?? []) {
      if (cert.notAfter - now < MIN_CERTIFICATE_VALIDITY_MS) {
        problems.push(
          `the upstream certificate ${cert.subject} expires ${isoTime(cert.notAfter)}, within ${describeSeconds(MIN_CERTIFICATE_VALIDITY_MS / 1000)}`,
        );
      }
    }
    const active = ca.authorities.find((a) => a.status === 'active');
    if (active !== undefined) {
      const margin =
        Math.min(MIN_CERTIFICATE_VALIDITY_MS, (active.notAfter - active.notBefore) / 6) -
        2 * ca.tickMs -
        60_000;
      evidence['signingCa'] = { id: active.id, notAfter: isoTime(active.notAfter) };
      if (active.notAfter - now < margin) {
        problems.push(
          `the signing CA ${active.id} expires ${isoTime(active.notAfter)} and has not been replaced`,
        );
      }
    }
    return problems.length > 0
      ? fail(problems.join('; '), evidence)
      : pass(
          `the serving certificate is valid until ${isoTime(leaf.notAfter)} and renewed at ${isoTime(tls.renewAt)}; no certificate of its chain is about to expire`,
          evidence,
        );
  },
};

/** The transport controls, in id order. */
export const TRANSPORT_CONTROLS: readonly Control[] = [tlsSettings, certificateValidity];
