// Public surface of the HTTP layer.
export { buildApp } from './app.js';
export type { AppOptions, HallmarkApp, RoutePlugin } from './app.js';
export { requestContext } from './request-context.js';
export type { PreauthState, RequestAuditContext } from './request-context.js';
export { authenticate, authenticateAdmin, bearerToken } from './bearer-authentication.js';
export { HTTP_STATUS } from './error-status.js';
export { sendError, toHallmarkError } from './error-handler.js';
export type { ErrorBody } from './error-handler.js';
export { auditRequest, describeRequest, defaultContext } from './request-audit.js';
export { createMetricsRegistry } from './metrics.js';
export { healthRoutes } from './health-routes.js';
export type { HealthRouteOptions, MetricsSource, ReadinessCheck } from './health-routes.js';
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
export { auditRoutes } from './routes/audit-routes.js';
export type { AuditRouteOptions } from './routes/audit-routes.js';
export { auditCheckpointRoutes } from './routes/audit-checkpoint-routes.js';
export type { AuditCheckpointRouteOptions } from './routes/audit-checkpoint-routes.js';
export { apiKeyRoutes } from './routes/apikey-routes.js';
export type { ApiKeyRouteOptions } from './routes/apikey-routes.js';
export { authnRoutes } from './routes/authn-routes.js';
export type { AuthnRouteOptions } from './routes/authn-routes.js';
export { bundleDocumentSource, bundleRoutes } from './routes/bundle-routes.js';
export type { BundleRouteOptions, BundleSourceDeps } from './routes/bundle-routes.js';
export { caRoutes } from './routes/ca-routes.js';
export { complianceRoutes } from './routes/compliance-routes.js';
export type { ComplianceRouteOptions } from './routes/compliance-routes.js';
export type { CaRouteOptions } from './routes/ca-routes.js';
export { federatedBundleRoutes } from './routes/federated-bundle-routes.js';
export type {
  FederatedBundleRouteOptions,
  FederatingWorkload,
} from './routes/federated-bundle-routes.js';
export { jwtSvidRoutes } from './routes/jwt-svid-routes.js';
export type { JwtSvidCaller, JwtSvidRouteOptions } from './routes/jwt-svid-routes.js';
export { oidcRoutes } from './routes/oidc-routes.js';
export type { OidcRouteOptions } from './routes/oidc-routes.js';
export { policyRoutes } from './routes/policy-routes.js';
export type { PolicyRouteOptions } from './routes/policy-routes.js';
export { secretRoutes } from './routes/secret-routes.js';
export type { SecretAccess, SecretRouteOptions } from './routes/secret-routes.js';
export { svidRoutes } from './routes/svid-routes.js';
export type { SvidRouteOptions } from './routes/svid-routes.js';
export { RateLimiter } from './rate-limiter.js';
export { BUNDLE_PATH, startBundleEndpoint } from './bundle-endpoint-server.js';
export type { BundleEndpointOptions, BundleEndpointServer } from './bundle-endpoint-server.js';
