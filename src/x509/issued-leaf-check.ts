// The post-issuance check: a freshly signed SVID is re-parsed and must say exactly what was asked.
import { HallmarkError } from '../errors/index.js';
import { MalformedDerError } from './der-reader.js';
import { ipAddressBytes } from './extension-builder.js';
import { parseCertificate } from './parsed-certificate.js';
import type { PreparedAuthority } from './signing-authority.js';
import type { PublicKeyInfo } from './subject-public-key.js';
import { SvidRuleError, checkLeafSvid } from './svid-rules.js';

/** What the issuer intended the certificate to say. */
export interface IntendedLeaf {
  readonly authority: PreparedAuthority;
  readonly spiffeId: string;
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyInfo: PublicKeyInfo;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * Parses `der` independently of how it was built and checks the X509-SVID leaf rules and that
 * every field matches the intent. Kept cheap: one DER parse, no OpenSSL certificate parse
 * (whose public-key decoding alone costs about 250 µs with OpenSSL 3.0).
 *
 * @throws HallmarkError `ERR_X509_SVID_INVALID`
 */
export function checkIssuedLeaf(der: Buffer, intended: IntendedLeaf): void {
  const { authority } = intended;
  try {
    const cert = parseCertificate(der);
    const { spiffeId } = checkLeafSvid(cert);
    const san = cert.extensions.subjectAltName!;
    const problems: string[] = [];
    if (spiffeId.toString() !== intended.spiffeId) problems.push('URI SAN');
    if (!cert.serial.equals(intended.serial)) problems.push('serial');
    if (!cert.issuerDer.equals(authority.certificate.subjectDer)) problems.push('issuer');
    if (cert.notBefore.getTime() !== intended.notBefore.getTime()) problems.push('notBefore');
    if (cert.notAfter.getTime() !== intended.notAfter.getTime()) problems.push('notAfter');
    if (cert.notAfter > authority.notAfter || cert.notBefore < authority.notBefore) {
      problems.push('validity outside the CA');
    }
    if (!cert.spkiDer.equals(intended.keyInfo.spkiDer)) problems.push('public key');
    if (cert.extensions.basicConstraints?.ca !== false) problems.push('basicConstraints');
    if (!cert.extensions.authorityKeyId?.equals(authority.keyId)) problems.push('authorityKeyId');
    if (cert.extensions.extKeyUsage === undefined) problems.push('extKeyUsage');
    if (!sameList(san.dnsNames, intended.dnsNames)) problems.push('DNS SANs');
    const ips = intended.ipAddresses.map(ipAddressBytes);
    if (
      san.ipAddresses.length !== ips.length ||
      san.ipAddresses.some((ip, i) => !ip.equals(ips[i]!))
    ) {
      problems.push('IP SANs');
    }
    if (san.otherNames !== 0) problems.push('unexpected SAN kinds');
    if (cert.signatureAlgorithm?.oid !== authority.signatureAlgorithm.oid)
      problems.push('algorithm');
    // The signature is not re-verified here: the signing key was proven to match the CA
    // certificate once (in prepareAuthority for a key here, by its first signature for a
    // token's signer: signProven), and a verify (~190 µs with OpenSSL 3.0) per SVID would cost
    // a quarter of the issuance budget. Every field above is still checked.
    if (problems.length > 0) {
      throw new HallmarkError('ERR_X509_SVID_INVALID', {
        detail: `mismatch: ${problems.join(', ')}`,
      });
    }
  } catch (err) {
    if (err instanceof MalformedDerError || err instanceof SvidRuleError) {
      throw new HallmarkError('ERR_X509_SVID_INVALID', { detail: err.message, cause: err });
    }
    throw err;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
