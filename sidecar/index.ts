// Public surface of the authenticator sidecar.
export { startSidecar, runSidecarOnce } from './sidecar.js';
export type { SidecarDeps, SidecarHandle } from './sidecar.js';
export { loadSidecarConfig, SIDECAR_VARIABLES } from './sidecar-config.js';
export type { SidecarConfig, SidecarConfigSource } from './sidecar-config.js';
export {
  INITIAL_REFRESH_STATE,
  MIN_RENEWAL_DELAY_MS,
  RENEWAL_JITTER,
  SVID_RENEWAL_FRACTION,
  TOKEN_RENEWAL_FRACTION,
  credentialsFresh,
  lifetimeOf,
  phaseOf,
  planRefresh,
  withFailure,
  withSuccess,
  withSvid,
  withSvidDistrusted,
  withToken,
  withTokenRemoved,
} from './refresh-schedule.js';
export type {
  CredentialLifetime,
  RefreshPlan,
  RefreshState,
  RetryState,
  SidecarPhase,
} from './refresh-schedule.js';
export { DEFAULT_BACKOFF, backoffDelay, withJitter } from './backoff.js';
export type { BackoffPolicy, RandomSource } from './backoff.js';
export {
  CREDENTIAL_FILE_MODES,
  CREDENTIAL_FILE_NAMES,
  CredentialDirectory,
  FEDERATED_DIR,
} from './credential-files.js';
export type { CredentialStore, SvidFiles } from './credential-files.js';
export { ProjectedTokenFile } from './projected-token.js';
export type { ProjectedTokenSource } from './projected-token.js';
export { ServerRefusal, isDefinitiveRefusal } from './server-api.js';
export type {
  ClientCertificate,
  HallmarkServerApi,
  IssuedAccessToken,
  IssuedSvid,
  X509TrustBundle,
} from './server-api.js';
export {
  MAX_POLL_MS,
  MIN_POLL_MS,
  chainReachesBundle,
  nextPollDelay,
  watchForDistrust,
} from './distrust-watch.js';
export type { DistrustWatch, DistrustWatchDeps } from './distrust-watch.js';
export { ClientServerApi } from './client-server-api.js';
export type { ClientServerApiOptions } from './client-server-api.js';
export { ServerTrustFiles } from './server-trust.js';
export type { ServerTrust } from './server-trust.js';
export { checkIssuedSvid } from './svid-check.js';
export { ServerCredentialSource } from './credential-source.js';
export type {
  CredentialSource,
  ObtainedSvid,
  ObtainedToken,
  ServerCredentialSourceDeps,
} from './credential-source.js';
export { RefreshLoop, realTimers } from './refresh-loop.js';
export type { CredentialKind, RefreshAttempt, RefreshLoopDeps, Timers } from './refresh-loop.js';
export { describePhaseChange, labelOf } from './phase-change.js';
export type { PhaseChange, PhaseLabel, SidecarLogger } from './phase-change.js';
export { SidecarMetrics } from './sidecar-metrics.js';
export type { RefreshView } from './sidecar-metrics.js';
export { startHealthServer } from './health-server.js';
export type { HealthReport, HealthServer, HealthServerOptions } from './health-server.js';
export {
  DEFAULT_SOCKET_NAME,
  ENDPOINT_SOCKET_VARIABLE,
  MAX_SOCKET_PATH_BYTES,
  endpointSocketPath,
  parseEndpointSocket,
} from './endpoint-socket.js';
export {
  PROTO_LOADER_OPTIONS,
  WORKLOAD_API_PROTO_PATH,
  WORKLOAD_API_SERVICE,
  workloadApiDefinition,
} from './workload-api-proto.js';
export type {
  JWTBundlesResponse,
  JWTSVID,
  JWTSVIDRequest,
  JWTSVIDResponse,
  ValidateJWTSVIDRequest,
  ValidateJWTSVIDResponse,
  X509BundlesResponse,
  X509SVID,
  X509SVIDResponse,
} from './workload-api-proto.js';
export { toProtoStruct } from './protobuf-struct.js';
export type { ProtoStruct, ProtoValue } from './protobuf-struct.js';
export { grpcFailureOf } from './grpc-status.js';
export type { GrpcFailure } from './grpc-status.js';
export {
  trustDomainIdOf,
  workloadSvidOf,
  x509BundlesResponse,
  x509SvidResponse,
} from './workload-svid.js';
export type { WorkloadSvid } from './workload-svid.js';
export { IdentityFeed } from './identity-feed.js';
export type { IdentityFeedDeps, IdentitySnapshot } from './identity-feed.js';
export { SvidPublisher } from './svid-publisher.js';
export { ClientJwtServerApi } from './jwt-server-api.js';
export type {
  ClientJwtServerApiOptions,
  IssuedJwtSvid,
  JwtAuthorities,
  JwtAuthorityJwk,
  JwtServerApi,
} from './jwt-server-api.js';
export { JwtBundleWatch } from './jwt-bundle-watch.js';
export type { JwtBundle, JwtBundleUpdate, JwtBundleWatchDeps } from './jwt-bundle-watch.js';
export { UNKNOWN_KID_REFETCH_MS } from './jwt-svid-profile.js';
export { SECURITY_HEADER, WorkloadApiService } from './workload-api-service.js';
export type { WorkloadApiServiceDeps } from './workload-api-service.js';
export { SOCKET_MODE } from './workload-api-socket.js';
export { startWorkloadApi } from './workload-api-server.js';
export type { WorkloadApiOptions, WorkloadApiServer } from './workload-api-server.js';
export { FederatedBundleFeed, followFederatedBundles } from './federated-bundle-feed.js';
export type {
  FederatedBundle,
  FederatedBundleApi,
  FederatedBundleFeedDeps,
} from './federated-bundle-feed.js';
