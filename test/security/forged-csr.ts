// Hostile CSRs for the corpus: spliced DER (another key, another algorithm, a broken signature).
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** One DER element: where it starts, where its content starts, and where it ends. */
interface Tlv {
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the element at `offset` (definite lengths only, as DER requires). */
function readTlv(der: Buffer, offset: number): Tlv {
  const lengthByte = der[offset + 1]!;
  let contentStart = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += count;
  }
  return { start: offset, contentStart, end: contentStart + length };
}

/** The child elements of the constructed element `tlv`. */
function children(der: Buffer, tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = tlv.contentStart; at < tlv.end;) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** Encodes a DER length. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A constructed element with `tag` around `parts`. */
function wrap(tag: number, parts: readonly Buffer[]): Buffer {
  const content = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

const slice = (der: Buffer, tlv: Tlv): Buffer => der.subarray(tlv.start, tlv.end);

/** DER of a single-block PEM. */
export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** PEM `CERTIFICATE REQUEST` armour around `der`. */
export function csrPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** The three parts of a CertificationRequest and the four of its info (RFC 2986 §4). */
function partsOf(pem: string): {
  der: Buffer;
  info: Tlv;
  algorithm: Tlv;
  signature: Tlv;
  infoParts: Tlv[];
} {
  const der = pemToDer(pem);
  const [info, algorithm, signature] = children(der, readTlv(der, 0)) as [Tlv, Tlv, Tlv];
  return { der, info, algorithm, signature, infoParts: children(der, info) };
}

/**
 * The CSR with its public key replaced by `publicKey`, keeping the original signature: a
 * request "signed" by a key other than the one it carries.
 */
export function withSwappedKey(pem: string, publicKey: KeyObject): string {
  const { der, algorithm, signature, infoParts } = partsOf(pem);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const info = wrap(
    0x30,
    infoParts.map((part, i) => (i === 2 ? spki : slice(der, part))),
  );
  return csrPem(wrap(0x30, [info, slice(der, algorithm), slice(der, signature)]));
}

/** The CSR with one bit of its signature value flipped. */
export function withFlippedSignatureBit(pem: string): string {
  const { der, signature } = partsOf(pem);
  const copy = Buffer.from(der);
  copy[signature.end - 1] = copy[signature.end - 1]! ^ 0x01;
  return csrPem(copy);
}

/** The CSR with its signatureAlgorithm replaced by the DER AlgorithmIdentifier `algorithmDer`. */
export function withAlgorithm(pem: string, algorithmDer: Buffer): string {
  const { der, info, signature } = partsOf(pem);
  return csrPem(wrap(0x30, [slice(der, info), algorithmDer, slice(der, signature)]));
}

/** The CSR with its version INTEGER set to `version` (only 0 is defined). */
export function withVersion(pem: string, version: number): string {
  const { der, algorithm, signature, infoParts } = partsOf(pem);
  const info = wrap(
    0x30,
    infoParts.map((part, i) => (i === 0 ? Buffer.from([0x02, 0x01, version]) : slice(der, part))),
  );
  return csrPem(wrap(0x30, [info, slice(der, algorithm), slice(der, signature)]));
}

/** AlgorithmIdentifier sha256WithRSAEncryption (1.2.840.113549.1.1.11, NULL parameters). */
export const SHA256_WITH_RSA = Buffer.from('300d06092a864886f70d01010b0500', 'hex');
/** AlgorithmIdentifier md5WithRSAEncryption (1.2.840.113549.1.1.4, NULL parameters). */
export const MD5_WITH_RSA = Buffer.from('300d06092a864886f70d0101040500', 'hex');

/** The SPIFFE ID a hostile CSR asks for (the admin of another namespace). */
export const REQUESTED_SPIFFE_ID = 'spiffe://hallmark.local/ns/kube-system/sa/admin';

/**
 * A CSR for an RSA key that asks for everything a leaf must never get: subject CN=admin,
 * basicConstraints CA:TRUE (critical), keyUsage keyCertSign/cRLSign and a foreign SPIFFE ID.
 * Built and signed by node-forge (test code only; the product never signs with forge).
 */
export function caRequestingCsr(privateKey: KeyObject, publicKey: KeyObject): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  );
  csr.setSubject([
    { name: 'commonName', value: 'admin' },
    { name: 'organizationName', value: 'system:masters' },
  ]);
  csr.setAttributes([
    {
      name: 'extensionRequest',
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 3, critical: true },
        {
          name: 'keyUsage',
          keyCertSign: true,
          cRLSign: true,
          digitalSignature: true,
          critical: true,
        },
        { name: 'subjectAltName', altNames: [{ type: 6, value: REQUESTED_SPIFFE_ID }] },
      ],
    },
  ]);
  const forgeKey = forge.pki.privateKeyFromPem(
    privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  ) as forge.pki.rsa.PrivateKey;
  csr.sign(forgeKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}
