// Public surface of configuration.
export { ConfigError } from './config-error.js';
export { parseDuration } from './duration.js';
export { EnvReader, flagNameFor } from './env-reader.js';
export type { ConfigSource } from './env-reader.js';
export {
  loadServerConfig,
  publicUrlOf,
  rejectUnknownVariables,
  KNOWN_VARIABLES,
} from './server-config.js';
export type { ServerConfig, CaKeyType, MasterKeySource, Pkcs11Config } from './server-config.js';
export type { AuditSinksConfig, SyslogSinkConfig, WebhookSinkConfig } from './audit-sink-config.js';
export type { AuditCheckpointConfig } from './audit-checkpoint-config.js';
export type { AuditRetentionConfig } from './audit-retention-config.js';
export { HALLMARK_VERSION } from './version.js';
export { JWT_SVID_ALGORITHM_OF } from './federation-config.js';
export type { FederationConfig, JwtSvidKeyType } from './federation-config.js';
export { MAX_WORKERS } from './worker-count.js';
