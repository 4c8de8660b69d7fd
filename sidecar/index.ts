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
  removeFileDurably,
  syncDirectory,
  writeFileAtomic,
  writeFilesAtomic,
} from './atomic-file.js';
export type { FileContent } from './atomic-file.js';
export {
  CREDENTIAL_FILE_MODES,
  CREDENTIAL_FILE_NAMES,
  CredentialDirectory,
} from './credential-files.js';
export type { CredentialStore, SvidFiles } from './credential-files.js';
export { MemoryCredentialStore } from './memory-credential-store.js';
export { ProjectedTokenFile } from './projected-token.js';
export type { ProjectedTokenSource } from './projected-token.js';
export { ServerRefusal, isDefinitiveRefusal } from './server-api.js';
export type {
  ClientCertificate,
  HallmarkServerApi,
  IssuedAccessToken,
  IssuedSvid,
} from './server-api.js';
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
