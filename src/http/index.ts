// Public surface of the HTTP layer.
export { buildApp } from './app.js';
export type { AppOptions, HallmarkApp, RouteInstaller } from './app.js';
export { HTTP_STATUS } from './error-status.js';
export { sendError, toHallmarkError } from './error-handler.js';
export type { ErrorBody } from './error-handler.js';
export { auditRequest, describeRequest, defaultContext } from './request-audit.js';
export type { RequestAuditContext } from './request-audit.js';
export { createMetricsRegistry } from './metrics.js';
export type { ReadinessCheck } from './health-routes.js';
export { REDACT_PATHS, createLogger } from './logger.js';
export { followTlsChanges, tlsOptions } from './serving-tls.js';
export type { ServingTlsSource, TlsMaterial } from './serving-tls.js';
