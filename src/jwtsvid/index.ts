// Public surface of JWT-SVIDs: the rotating JWT authorities, the issuer and the validator.
export {
  DEFAULT_JWT_SVID_ALGORITHM,
  JWT_SVID_ALGORITHMS,
  isJwtSvidAlgorithm,
  keyFitsAlgorithm,
  keyShapeOf,
} from './jwt-svid-algorithm.js';
export type { JwtAuthorityKeyShape, JwtSvidAlgorithm } from './jwt-svid-algorithm.js';
export { JWT_AUTHORITIES_CHANNEL, JwtAuthorityKeyring } from './jwt-authority-keyring.js';
export type {
  ActiveJwtAuthority,
  JwtAuthorityInfo,
  JwtAuthorityKeyringDeps,
} from './jwt-authority-keyring.js';
export {
  DEFAULT_JWT_AUTHORITY_SETTINGS,
  jwtAuthoritySchedule,
  resolveJwtAuthoritySettings,
} from './jwt-authority-settings.js';
export type {
  JwtAuthoritySettings,
  ResolvedJwtAuthoritySettings,
} from './jwt-authority-settings.js';
export {
  MAX_JWT_SVID_AUDIENCES,
  MAX_JWT_SVID_AUDIENCE_LENGTH,
  checkExpectedAudience,
  requestedAudience,
} from './jwt-svid-audience.js';
export { JWT_SVID_TYP, JwtSvidIssuer, jwtSvidClaims } from './jwt-svid-issuer.js';
export type {
  IssuedJwtSvid,
  JwtAuthoritySource,
  JwtSvidIssuerSettings,
  JwtSvidRequest,
} from './jwt-svid-issuer.js';
export { DEFAULT_JWT_SVID_LEEWAY_MS, validateJwtSvid } from './jwt-svid-validator.js';
export type {
  JwtBundleKey,
  JwtSvidValidationContext,
  ValidatedJwtSvid,
} from './jwt-svid-validator.js';
