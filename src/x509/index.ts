// Public surface of the certificate engine: keys, CSRs, X509-SVIDs, CA certificates, validation.
export { generateKeyPair, generateKeyPairAsync, keyTypeOf, KEY_TYPES } from './key-pair.js';
export type { KeyPair, KeyType } from './key-pair.js';
export { verifyCsr, MAX_CSR_PEM_LENGTH } from './csr.js';
export type { VerifiedCsr } from './csr.js';
export { buildCsr } from './csr-builder.js';
export { prepareAuthority } from './signing-authority.js';
export type {
  CertificateSigner,
  PreparedAuthority,
  SigningAuthority,
} from './signing-authority.js';
export { issueX509Svid, issueServerSvid } from './svid-issuer.js';
export type { IssuedSvid, ServerSvidRequest, X509SvidRequest } from './svid-issuer.js';
export { BACKDATE_SECONDS } from './certificate-builder.js';
export { buildSelfSignedCa, buildIntermediateCa } from './ca-certificate.js';
export type { IntermediateCaRequest, NewCaKey, SelfSignedCaRequest } from './ca-certificate.js';
export { validateX509Svid } from './svid-validator.js';
export type { VerifiedX509Svid } from './svid-validator.js';
export { decodeCertificates, encodePem } from './pem.js';
export { spkiFingerprint } from './subject-public-key.js';
