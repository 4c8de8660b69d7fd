// Public surface of secrets: values, sealing, the store port and its PostgreSQL adapter.
export type {
  AuditedWrite,
  DeletePrefixOptions,
  PutOptions,
  SecretCounts,
  SecretStore,
  SecretVersion,
  SecretVersionRef,
} from './secret-store.js';
export { DEFAULT_SECRET_CACHE, PgSecretStore, SECRETS_CHANNEL } from './pg-secret-store.js';
export { LatestVersionCache } from './latest-version-cache.js';
export type { CachedVersion, LatestVersionCacheLimits } from './latest-version-cache.js';
export type { PgSecretStoreOptions } from './pg-secret-store.js';
export {
  DEFAULT_MAX_SECRET_BYTES,
  decodeSecretValue,
  encodeSecretValue,
  firstLoneSurrogate,
} from './secret-value.js';
export { openSecretVersion, sealSecretVersion, secretAad } from './secret-sealing.js';
export { SecretPathError, quotePath, secretNotFound } from './secret-path-error.js';
export {
  MAX_SECRET_PATH_BYTES,
  isValidSecretPath,
  parseSecretPath,
  secretPathReason,
} from './secret-path.js';
export type { SecretPath } from './secret-path.js';
export type { SecretPathDetails } from './secret-path-error.js';
export { validateSecretPrefix } from './secret-prefix.js';
