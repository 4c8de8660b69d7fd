// A test Web PKI: a conventional root CA (no SPIFFE name) and TLS server certificates for
// 127.0.0.1 and localhost, as a public or company CA would issue them. node-forge builds the
// certificates; the RSA keys come from node:crypto.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A root and a way to issue server certificates under it. */
export interface WebPki {
  readonly rootPem: string;
  /** A server certificate (chain: leaf only) and key for the given names. */
  issueServer(names?: { dns?: string[]; ips?: string[] }): { certPem: string; keyPem: string };
}

function rsaKeyPair(): {
  forgeKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  keyPem: string;
} {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return {
    forgeKey,
    publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e),
    keyPem,
  };
}

function baseCertificate(publicKey: forge.pki.rsa.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

/** Makes a root CA named `name`. */
export function createWebPki(name = 'Hallmark Test Web Root'): WebPki {
  const root = rsaKeyPair();
  const rootCert = baseCertificate(root.publicKey, 30);
  const rootName = [
    { name: 'commonName', value: name },
    { name: 'organizationName', value: 'Test' },
  ];
  rootCert.setSubject(rootName);
  rootCert.setIssuer(rootName);
  rootCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  rootCert.sign(root.forgeKey, forge.md.sha256.create());
  return {
    rootPem: forge.pki.certificateToPem(rootCert),
    issueServer(names = { dns: ['localhost'], ips: ['127.0.0.1'] }) {
      const leaf = rsaKeyPair();
      const cert = baseCertificate(leaf.publicKey, 7);
      cert.setSubject([
        { name: 'commonName', value: names.dns?.[0] ?? names.ips?.[0] ?? 'server' },
      ]);
      cert.setIssuer(rootName);
      cert.setExtensions([
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...(names.dns ?? []).map((value) => ({ type: 2, value })),
            ...(names.ips ?? []).map((ip) => ({ type: 7, ip })),
          ],
        },
      ]);
      cert.sign(root.forgeKey, forge.md.sha256.create());
      return { certPem: forge.pki.certificateToPem(cert), keyPem: leaf.keyPem };
    },
  };
}
