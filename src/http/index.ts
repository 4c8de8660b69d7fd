// Public surface of the HTTP layer.
export { buildApp } from './app.js';
export type { AppOptions, HallmarkApp, RouteInstaller } from './app.js';
export { HTTP_STATUS } from './error-status.js';
export { sendError, toHallmarkError } from './error-handler.js';
export type { ErrorBody } from './error-handler.js';
export { auditRequest, describeRequest, defaultContext } from './request-audit.js';
export type { RequestAuditContext } from './request-audit.js';
export { createMetricsRegistry } from './metrics.js';
export type { MetricsSource, ReadinessCheck } from './health-routes.js';
export { REDACT_PATHS, createLogger, logFormatFor, RequestLogController } from './logger.js';
export type { LogFormat, LogStyle } from './logger.js';
export { AddressBuckets, IPV6_CALLER_PREFIX, callerKey } from './address-buckets.js';
export type { AddressBucketLimits, TakeResult } from './address-buckets.js';
export {
  DEFAULT_ANONYMOUS_ROWS_PER_INTERVAL,
  ThrottleTally,
  THROTTLED_ACTION,
  OTHER_ADDRESSES,
} from './throttle-tally.js';
export type { ThrottleTallyOptions } from './throttle-tally.js';
export { callerOf, clientAddress, isGuardedRoute } from './preauth-limit.js';
export type { PreauthLimit } from './preauth-limit.js';
export {
  DEFAULT_TLS12_CIPHERS,
  TLS_MIN_VERSION,
  followTlsChanges,
  tlsOptions,
} from './serving-tls.js';
export type { ServingTlsSource, TlsMaterial } from './serving-tls.js';
