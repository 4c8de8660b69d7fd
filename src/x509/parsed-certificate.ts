// A certificate read back from DER: the fields and extensions validation checks, with raw bytes.
import {
  MalformedDerError,
  TAG,
  bytesOf,
  childrenOf,
  derChildren,
  isContext,
  isUniversal,
  parseDer,
  smallIntegerOf,
  unsignedIntegerOf,
  wholeBitString,
} from './der-reader.js';
import type { Asn1Node } from './der-writer.js';
import { readExtensions } from './extension-reader.js';
import type { CertificateExtensions } from './extension-reader.js';
import { readSignatureAlgorithm } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';

/** A parsed X.509 v3 certificate. Names and keys are kept as the exact DER found. */
export interface ParsedCertificate {
  readonly der: Buffer;
  /** The signed bytes. */
  readonly tbsDer: Buffer;
  /** `undefined` when the algorithm is one we do not verify (e.g. SHA-1). */
  readonly signatureAlgorithm: SignatureAlgorithm | undefined;
  readonly signature: Buffer;
  readonly serial: Buffer;
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Buffer;
  readonly extensions: CertificateExtensions;
}

/**
 * Parses a DER certificate. Only v3 certificates with extensions are accepted (every SVID and
 * SPIFFE CA certificate has them), and the inner and outer signature algorithms must match.
 * @throws MalformedDerError
 * @see RFC 5280 §4.1
 */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const raw = derChildren(der);
  if (raw.length !== 3) throw new MalformedDerError('Certificate needs 3 fields');
  const tbsDer = raw[0]!;
  const tbsRaw = derChildren(tbsDer);
  const [tbs, outerAlgorithm, signatureValue] = childrenOf(
    parseDer(der),
    TAG.SEQUENCE,
    'Certificate',
  );
  const fields = childrenOf(tbs, TAG.SEQUENCE, 'TBSCertificate');
  // version [0], serial, signature, issuer, validity, subject, spki, then [1] [2] [3]
  if (!isContext(fields[0], 0) || !Array.isArray(fields[0].value)) {
    throw new MalformedDerError('only X.509 v3 certificates are accepted');
  }
  if (smallIntegerOf(fields[0].value[0], 'version') !== 2) {
    throw new MalformedDerError('only X.509 v3 certificates are accepted');
  }
  // @see RFC 5280 §4.1.1.2: the two AlgorithmIdentifiers must be identical.
  if (!tbsRaw[2]!.equals(raw[1]!)) throw new MalformedDerError('signature algorithms differ');
  const [notBefore, notAfter] = childrenOf(fields[4], TAG.SEQUENCE, 'validity').map(readTime);
  if (notBefore === undefined || notAfter === undefined)
    throw new MalformedDerError('bad validity');
  childrenOf(fields[3], TAG.SEQUENCE, 'issuer');
  childrenOf(fields[5], TAG.SEQUENCE, 'subject');
  childrenOf(fields[6], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  // issuerUniqueID [1] and subjectUniqueID [2] are not used by CAs conforming to RFC 5280 (§4.1.2.8).
  const last = fields[fields.length - 1];
  if (fields.length !== 8 || !isContext(last, 3) || !Array.isArray(last.value)) {
    throw new MalformedDerError('expected exactly the v3 fields with extensions');
  }
  return {
    der,
    tbsDer,
    signatureAlgorithm: readSignatureAlgorithm(outerAlgorithm),
    signature: wholeBitString(signatureValue, 'signatureValue'),
    serial: unsignedIntegerOf(fields[1], 'serialNumber'),
    issuerDer: tbsRaw[3]!,
    subjectDer: tbsRaw[5]!,
    notBefore,
    notAfter,
    spkiDer: tbsRaw[6]!,
    extensions: readExtensions(last.value[0]),
  };
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * A validity time in the only forms RFC 5280 allows: UTCTime YYMMDDHHMMSSZ (YY ≥ 50 is 19YY)
 * or GeneralizedTime YYYYMMDDHHMMSSZ, both in UTC with seconds and no fraction.
 * @see RFC 5280 §4.1.2.5.1, §4.1.2.5.2
 */
function readTime(node: Asn1Node): Date {
  let match: RegExpExecArray | null;
  let year: number;
  if (isUniversal(node, TAG.UTCTIME)) {
    match = UTC_TIME.exec(bytesOf(node, TAG.UTCTIME, 'UTCTime'));
    if (!match) throw new MalformedDerError('bad UTCTime');
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else {
    match = GENERALIZED_TIME.exec(bytesOf(node, TAG.GENERALIZEDTIME, 'GeneralizedTime'));
    if (!match) throw new MalformedDerError('bad GeneralizedTime');
    year = Number(match[1]);
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Date.UTC rolls 31 February over into March; a real date survives the round trip.
  if (
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new MalformedDerError('validity time is not a real date');
  }
  return date;
}
