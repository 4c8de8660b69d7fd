// What the controls need to know about a certificate: key strength, signature hash, validity.
import { X509Certificate, createHash } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateFacts } from './installation-snapshot.js';

/** SP 800-57 Part 1 Rev. 5 Table 2: security strength of RSA moduli (bits → strength). */
const RSA_STRENGTH: readonly [number, number][] = [
  [15_360, 256],
  [7_680, 192],
  [3_072, 128],
  [2_048, 112],
  [1_024, 80],
];

/** Named curves' security strength (half the order's size). */
const CURVE_STRENGTH: Readonly<Record<string, number>> = {
  prime256v1: 128,
  'P-256': 128,
  secp384r1: 192,
  'P-384': 192,
  secp521r1: 256,
  'P-521': 256,
  secp256k1: 128,
};

/** Collision resistance of the hash a signature uses (SP 800-57 Part 1 Rev. 5 Table 3; SHA-1 is broken: 63). */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; strength: number }>> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', strength: 0 },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', strength: 63 },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', strength: 128 },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', strength: 192 },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', strength: 256 },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', strength: 63 },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', strength: 128 },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', strength: 192 },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', strength: 256 },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', strength: 63 },
  '1.3.101.112': { name: 'Ed25519', strength: 128 },
  '1.3.101.113': { name: 'Ed448', strength: 224 },
};

/** RSASSA-PSS: the hash is in the parameters (RFC 4055 §3.1; absent means SHA-1). */
const PSS_OID = '1.2.840.113549.1.1.10';
const HASH_STRENGTH: Readonly<Record<string, { name: string; strength: number }>> = {
  '1.3.14.3.2.26': { name: 'SHA-1', strength: 63 },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', strength: 128 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', strength: 192 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', strength: 256 },
};

function asn1Children(node: forge.asn1.Asn1 | undefined): forge.asn1.Asn1[] {
  return Array.isArray(node?.value) ? node.value : [];
}

function oidOf(node: forge.asn1.Asn1 | undefined): string {
  return typeof node?.value === 'string' ? forge.asn1.derToOid(node.value) : '';
}

/** The outer signatureAlgorithm of a certificate (RFC 5280 §4.1.1.2), named, with its strength. */
function signatureOf(der: Buffer): { name: string; strength: number } {
  const certificate = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const algorithm = asn1Children(certificate)[1];
  const [oidNode, parameters] = asn1Children(algorithm);
  const oid = oidOf(oidNode);
  if (oid === PSS_OID) {
    const hashField = asn1Children(parameters).find(
      (n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0,
    );
    const hashOid = oidOf(asn1Children(asn1Children(hashField)[0])[0]);
    const hash = HASH_STRENGTH[hashOid] ?? HASH_STRENGTH['1.3.14.3.2.26'];
    return { name: `RSASSA-PSS with ${hash?.name ?? hashOid}`, strength: hash?.strength ?? 0 };
  }
  return SIGNATURE_ALGORITHMS[oid] ?? { name: oid, strength: 0 };
}

function keyOf(cert: X509Certificate): { description: string; strength: number } {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0;
      const strength = RSA_STRENGTH.find(([size]) => bits >= size)?.[1] ?? 0;
      return { description: `RSA ${bits}`, strength };
    }
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown curve';
      return { description: `EC ${curve}`, strength: CURVE_STRENGTH[curve] ?? 0 };
    }
    case 'ed25519':
      return { description: 'Ed25519', strength: 128 };
    case 'ed448':
      return { description: 'Ed448', strength: 224 };
    default:
      return { description: key.asymmetricKeyType ?? 'unknown', strength: 0 };
  }
}

/** Reads a PEM certificate into {@link CertificateFacts}. */
export function certificateFacts(pem: string): CertificateFacts {
  const cert = new X509Certificate(pem);
  const key = keyOf(cert);
  const signature = signatureOf(cert.raw);
  return {
    // SVIDs have an empty subject: their identity is the URI SAN.
    subject: (cert.subject ?? '').replace(/\n/g, ', ') || (cert.subjectAltName ?? ''),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    keyDescription: key.description,
    keyStrengthBits: key.strength,
    signatureAlgorithm: signature.name,
    signatureHashStrengthBits: signature.strength,
    sha256: createHash('sha256').update(cert.raw).digest('hex'),
  };
}
