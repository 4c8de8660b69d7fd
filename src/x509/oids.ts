// Object identifiers the certificate engine reads and writes, named once.

/** OIDs by name. */
export const OID = {
  // signature algorithms
  ecdsaWithSha256: '1.2.840.10045.4.3.2', // RFC 5758 §3.2
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11', // RFC 4055 §5
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10', // RFC 4055 §3.1
  mgf1: '1.2.840.113549.1.1.8',
  ed25519: '1.3.101.112', // RFC 8410 §3
  // hashes (inside RSASSA-PSS parameters)
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  // public key algorithms and curves
  ecPublicKey: '1.2.840.10045.2.1', // RFC 5480 §2.1.1
  rsaEncryption: '1.2.840.113549.1.1.1', // RFC 3279 §2.3.1
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  // certificate extensions (RFC 5280 §4.2.1)
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  // extended key usages (RFC 5280 §4.2.1.12)
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  // attribute types (X.520)
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  organizationName: '2.5.4.10',
  // PKCS#9 attribute a CSR uses to ask for extensions (RFC 2986 §4.1, RFC 2985 §5.4.2)
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;
