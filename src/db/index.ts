// Public surface of the database layer.
export { Database, isUnavailableError, preparedStatement } from './database.js';
export type {
  ActivityObserver,
  DbLogger,
  Queryable,
  NotifyHandler,
  TransactionOptions,
} from './database.js';
export {
  DatabaseReadiness,
  DEFAULT_READINESS_FRESH_MS,
  DEFAULT_READINESS_TIMEOUT_MS,
} from './database-readiness.js';
export type { DatabaseReadinessOptions, DatabaseReadinessResult } from './database-readiness.js';
export { DEFAULT_WRITE_CONCURRENCY, MAX_SLOT_STREAK, WriteGate } from './write-gate.js';
export { startEmbeddedPostgres, freeLoopbackPort } from './embedded-postgres.js';
export type { EmbeddedCluster, EmbeddedOptions } from './embedded-postgres.js';
export {
  PostmasterSupervisor,
  DEFAULT_RESTART_BACKOFF_MS,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
} from './postmaster-supervisor.js';
export type {
  PostmasterControl,
  SupervisorEvent,
  SupervisorOptions,
  WatchedProcess,
} from './postmaster-supervisor.js';
export { migrate, isFullyMigrated } from './migrator.js';
export { MIGRATIONS } from './migrations/index.js';
export type { Migration } from './migrations/index.js';
export { ADVISORY_LOCKS } from './locks.js';
export { SessionLock } from './session-lock.js';
