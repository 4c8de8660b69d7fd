// The TBSCertificate and the signed Certificate: assembled with forge ASN.1, signed by the CA's key.
import { pooledRandomBytes } from '../crypto/index.js';
import {
  bitString,
  encode,
  encodedOnce,
  explicit,
  preEncoded,
  sequence,
  smallInteger,
  time,
  unsignedInteger,
} from './der-writer.js';
import type { Asn1Node } from './der-writer.js';
import { algorithmIdentifier } from './signature-algorithm.js';
import type { SignatureAlgorithm } from './signature-algorithm.js';

/** How far notBefore is backdated, to absorb clock skew between server and relying parties. */
export const BACKDATE_SECONDS = 10;

/** Everything a certificate states, already decided and validated by the caller. */
export interface CertificateTemplate {
  /** Positive serial number, big-endian magnitude. */
  readonly serial: Buffer;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The issuer's subject Name, byte for byte as in the issuer's certificate. */
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Buffer;
  /** Extension nodes, in the order they should appear. */
  readonly extensions: readonly Asn1Node[];
}

// Version v3 is `[0] EXPLICIT INTEGER 2`; one immutable node serves every certificate.
const VERSION_3 = encodedOnce(explicit(0, smallInteger(2)));
const algorithmNodes = new WeakMap<SignatureAlgorithm, Asn1Node>();

// The AlgorithmIdentifier of an algorithm, encoded once (it appears twice per certificate).
function algorithmNode(algorithm: SignatureAlgorithm): Asn1Node {
  let node = algorithmNodes.get(algorithm);
  if (node === undefined) {
    node = encodedOnce(algorithmIdentifier(algorithm));
    algorithmNodes.set(algorithm, node);
  }
  return node;
}

/**
 * DER TBSCertificate for `template`.
 * @see RFC 5280 §4.1.2
 */
export function buildTbsCertificate(template: CertificateTemplate): Buffer {
  return encode(
    sequence([
      VERSION_3,
      unsignedInteger(template.serial),
      algorithmNode(template.signatureAlgorithm),
      preEncoded(template.issuerDer),
      sequence([time(template.notBefore), time(template.notAfter)]),
      preEncoded(template.subjectDer),
      preEncoded(template.spkiDer),
      explicit(3, sequence([...template.extensions])),
    ]),
  );
}

/**
 * The Certificate (DER): `tbsDer`, the algorithm that signed it, and its signature (made by the
 * CA's key, in this process or in a PKCS#11 token).
 * @see RFC 5280 §4.1.1
 */
export function certificateDer(
  tbsDer: Buffer,
  algorithm: SignatureAlgorithm,
  signature: Buffer,
): Buffer {
  return encode(sequence([preEncoded(tbsDer), algorithmNode(algorithm), bitString(signature)]));
}

const SERIAL_BYTES = 16;

/**
 * A 128-bit random serial number from node:crypto, as a positive magnitude (never zero).
 * @see RFC 5280 §4.1.2.2 (positive, at most 20 octets); CA/B Forum BR §7.1 (≥ 64 random bits)
 */
export function randomSerial(): Buffer {
  for (;;) {
    const serial = pooledRandomBytes(SERIAL_BYTES);
    // Leading zero bytes are dropped so the magnitude is what DER and OpenSSL print.
    let start = 0;
    while (start < serial.length && serial[start] === 0) start++;
    if (start < serial.length) return serial.subarray(start);
  }
}

/** Lowercase hex of a serial magnitude, as `X509Certificate.serialNumber` prints it. */
export function serialHex(serial: Buffer): string {
  return serial.toString('hex');
}

/** `ms` truncated to whole seconds: X.509 times carry no fraction (RFC 5280 §4.1.2.5). */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
