// Public surface of OIDC discovery for JWT-SVIDs: the provider metadata and its key set.
export {
  OIDC_PATHS,
  discoveryDocument,
  jwksUriOf,
  oidcCacheMaxAgeSeconds,
  oidcKeySet,
} from './oidc-documents.js';
export type { DiscoveryDocument, OidcJwk, OidcSigningKey } from './oidc-documents.js';
