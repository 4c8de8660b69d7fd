// The test Kubernetes API's own TLS authority: a throwaway CA and a 127.0.0.1 serving cert.
// Keys come from node:crypto; node-forge only assembles the ASN.1; node:crypto signs.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** PEM material for an HTTPS server and the CA its clients must trust. */
export interface TlsAuthority {
  /** CA certificate (PEM), the `certificate-authority-data` of the kubeconfig. */
  caPem: string;
  /** Serving certificate (PEM) for 127.0.0.1 and localhost, signed by the CA. */
  certPem: string;
  /** Serving private key (PKCS#8 PEM). */
  keyPem: string;
}

// RFC 5758 §3.2: ecdsa-with-SHA256.
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

function seq(items: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function oid(dotted: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

function octets(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

function bitString(bytes: Buffer): Asn1 {
  // A leading 0x00 octet: no unused bits (X.690 §8.6.2).
  return asn1.create(
    asn1.Class.UNIVERSAL,
    asn1.Type.BITSTRING,
    false,
    '\x00' + bytes.toString('binary'),
  );
}

function der(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

function fromDer(bytes: Buffer): Asn1 {
  return asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
}

function commonName(cn: string): Asn1 {
  // RFC 5280 §4.1.2.4: Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue).
  const atv = seq([
    oid('2.5.4.3'),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(cn)),
  ]);
  return seq([asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [atv])]);
}

function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const parts = [oid(id)];
  if (critical) {
    parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
  }
  parts.push(octets(der(value)));
  return seq(parts);
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents.
  const spki = fromDer(publicKey.export({ type: 'spki', format: 'der' }));
  const bits = (spki.value as Asn1[])[1]!.value as string;
  return createHash('sha1')
    .update(Buffer.from(bits.slice(1), 'binary'))
    .digest();
}

interface CertificateSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  issuerPublicKey: KeyObject;
  signingKey: KeyObject;
  isCa: boolean;
  notBefore: Date;
  notAfter: Date;
}

function buildCertificate(spec: CertificateSpec): string {
  const algorithm = seq([oid(ECDSA_WITH_SHA256)]);
  const extensions: Asn1[] = [
    // RFC 5280 §4.2.1.9 basicConstraints, critical.
    extension(
      '2.5.29.19',
      true,
      seq(spec.isCa ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff')] : []),
    ),
    // RFC 5280 §4.2.1.3 keyUsage: keyCertSign+cRLSign for the CA, digitalSignature for TLS.
    extension(
      '2.5.29.15',
      true,
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.BITSTRING,
        false,
        spec.isCa ? '\x01\x06' : '\x07\x80',
      ),
    ),
    extension('2.5.29.14', false, octets(keyIdentifier(spec.publicKey))),
    extension(
      '2.5.29.35',
      false,
      seq([
        asn1.create(
          asn1.Class.CONTEXT_SPECIFIC,
          0,
          false,
          keyIdentifier(spec.issuerPublicKey).toString('binary'),
        ),
      ]),
    ),
  ];
  if (!spec.isCa) {
    // RFC 5280 §4.2.1.12 extKeyUsage serverAuth; §4.2.1.6 SAN dNSName [2], iPAddress [7].
    extensions.push(extension('2.5.29.37', false, seq([oid('1.3.6.1.5.5.7.3.1')])));
    extensions.push(
      extension(
        '2.5.29.17',
        false,
        seq([
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, 'localhost'),
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, '\x7f\x00\x00\x01'),
        ]),
      ),
    );
  }
  // A positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, '\x02'), // v3
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, serial.toString('binary')),
    algorithm,
    commonName(spec.issuer),
    seq([
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.UTCTIME,
        false,
        asn1.dateToUtcTime(spec.notBefore),
      ),
      asn1.create(
        asn1.Class.UNIVERSAL,
        asn1.Type.UTCTIME,
        false,
        asn1.dateToUtcTime(spec.notAfter),
      ),
    ]),
    commonName(spec.subject),
    fromDer(spec.publicKey.export({ type: 'spki', format: 'der' })),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions)]),
  ]);
  const tbsDer = der(tbs);
  // node:crypto makes the DER-encoded ECDSA-Sig-Value that X.509 expects (RFC 5758 §3.2).
  const signature = sign('sha256', tbsDer, spec.signingKey);
  const certificate = seq([tbs, seq([oid(ECDSA_WITH_SHA256)]), bitString(signature)]);
  const body = der(certificate).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

/** Creates a fresh P-256 CA and a serving certificate for 127.0.0.1, valid for a day. */
export function createTlsAuthority(): TlsAuthority {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Test infrastructure imitating a cluster: real time is fine here.
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 24 * 3600_000);
  const caPem = buildCertificate({
    subject: 'hallmark-test-kubernetes-ca',
    issuer: 'hallmark-test-kubernetes-ca',
    publicKey: ca.publicKey,
    issuerPublicKey: ca.publicKey,
    signingKey: ca.privateKey,
    isCa: true,
    notBefore,
    notAfter,
  });
  const certPem = buildCertificate({
    subject: 'kube-apiserver',
    issuer: 'hallmark-test-kubernetes-ca',
    publicKey: server.publicKey,
    issuerPublicKey: ca.publicKey,
    signingKey: ca.privateKey,
    isCa: false,
    notBefore,
    notAfter,
  });
  const keyPem = server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { caPem, certPem, keyPem };
}
