// Public surface of SPIFFE identifiers: parsing and building SPIFFE IDs and trust domains.
export {
  parseSpiffeId,
  spiffeIdFromPath,
  workloadSpiffeId,
  isMemberOf,
  SERVER_SPIFFE_PATH,
} from './spiffe-id.js';
export type { SpiffeId } from './spiffe-id.js';
export { parseTrustDomain } from './trust-domain.js';
export { validatePath, validatePathSegment } from './spiffe-path.js';
export {
  VALIDATION_REASON,
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
} from './validation-reason.js';
export type { ValidationReason } from './validation-reason.js';
export {
  bundleDocumentOf,
  checkBundleTrustDomain,
  parseSpiffeBundle,
  sameAuthorities,
  x509AuthoritiesPem,
} from './spiffe-bundle.js';
export type { BundleJwtAuthority, SpiffeBundle } from './spiffe-bundle.js';
