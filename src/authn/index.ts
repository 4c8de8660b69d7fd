// Public surface of authentication: access tokens, signing keys, revocation, API keys, mTLS login.
export { API_KEY_PREFIX, apiKeyMatches, generateApiKey, hashApiKey } from './api-key.js';
export { ADMIN_KEY_ID, bootstrapAdminKey } from './admin-bootstrap.js';
export type { AdminBootstrap } from './admin-bootstrap.js';
export { requireAdmin } from './caller-identity.js';
export type { CallerIdentity, TokenVerifier } from './caller-identity.js';
export { Authentication } from './authentication.js';
export type { AuthenticationDeps, AuthenticationSettings } from './authentication.js';
export { createApiKey, revokeApiKey, rotateApiKey, verifyApiKey } from './api-key-store.js';
export type { ApiKeyHolder, ApiKeyRole } from './api-key-store.js';
export { RevocationList, REVOCATIONS_CHANNEL, revokeIdentity } from './revocation-list.js';
export type { Revocation } from './revocation-list.js';
export { SigningKeyring, TOKEN_KEYS_CHANNEL } from './signing-keyring.js';
export type { ActiveSigningKey, SigningKeyringDeps } from './signing-keyring.js';
export { DEFAULT_SIGNING_KEY_SCHEDULE } from './authentication.js';
export { ACCESS_TOKEN_ALG } from './signing-key.js';
export { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_TYP } from './access-token-claims.js';
export type { AccessTokenRole, AccessTokenSubject } from './access-token-claims.js';
export { AccessTokenIssuer } from './access-token-issuer.js';
export type { AccessTokenSettings, IssuedAccessToken } from './access-token-issuer.js';
export { AccessTokenVerifier } from './access-token-verifier.js';
export type { AccessTokenVerifierSettings } from './access-token-verifier.js';
export { PodPresenceCache, kubernetesPodLookup, podPresence } from './pod-presence.js';
export type { PodLookup, PodPresence, PodRef, PodSnapshot } from './pod-presence.js';
export { checkWorkload, loginWorkload } from './workload-login.js';
export type {
  CheckedWorkload,
  RegisteredWorkload,
  RegistrationCheck,
  WorkloadLoginDeps,
} from './workload-login.js';
export {
  cachedIssuedCertificates,
  normalizeSerial,
  pgIssuedCertificates,
  issuanceRecordChange,
} from './issued-certificates.js';
export type {
  IssuedCertificateLookup,
  IssuedCertificateRecord,
  NewIssuanceRecord,
} from './issued-certificates.js';
export { verifiedClientSvid } from './client-certificate.js';
export type { ClientSvidContext } from './client-certificate.js';
export { distrustedIssuerOf } from './distrusted-issuers.js';
export type { DistrustedIssuer, DistrustedIssuers } from './distrusted-issuers.js';
