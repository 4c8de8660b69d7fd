// Public surface of the client library: the typed v1 API client and the app-facing helper.
export { HallmarkClient } from './hallmark-client.js';
export type { AccessTokenSource, HallmarkClientOptions } from './hallmark-client.js';
export type { TransportOptions } from './http-transport.js';
export { HallmarkClientError, isHallmarkClientError } from './client-error.js';
export type { ClientLocalCode, HallmarkClientErrorOptions } from './client-error.js';
export type {
  AccessToken,
  AuditEventView,
  AuditPage,
  CaAuthorityView,
  CaDistrusted,
  JwtSvidResponse,
  PolicyDocument,
  PolicyVersion,
  SecretResponse,
  SecretWriteResponse,
  SpiffeBundle,
  X509SvidResponse,
} from './api-responses.js';
export { AppSecretsClient, DEFAULT_OUTPUT_DIR, appClientOptionsFromEnv } from './app-client.js';
export type { AppClientOptions } from './app-client.js';
export { WatchedFile } from './watched-file.js';
export type { WatchedContent } from './watched-file.js';
export { secretTarget } from './secret-url.js';
