// Public surface of audit checkpoints: the signing key, the signed statements, verification, retention.
export { CHECKPOINT_ALG } from './checkpoint-key.js';
export type { StoredCheckpointKey } from './checkpoint-key.js';
export {
  CHECKPOINT_KEYS_CHANNEL,
  CheckpointKeyring,
  DEFAULT_CHECKPOINT_KEY_ROTATION_MS,
  checkpointKeySchedule,
} from './checkpoint-keyring.js';
export type { CheckpointKeyringDeps } from './checkpoint-keyring.js';
export {
  CHECKPOINT_TYP,
  CHECKPOINT_VERSION,
  signCheckpoint,
  signJws,
  statementBytes,
  verifyCheckpointJws,
  verifyDetachedJws,
} from './checkpoint-statement.js';
export type { CheckpointStatement, SignedCheckpoint } from './checkpoint-statement.js';
export { DEFAULT_CHECKPOINT_CADENCE, checkpointDue } from './checkpoint-cadence.js';
export type { CadenceDecision, CheckpointCadence } from './checkpoint-cadence.js';
export { AuditCheckpointer, DEFAULT_CHECKPOINT_TICK_MS } from './audit-checkpointer.js';
export type { AuditCheckpointerDeps, CheckpointLogger } from './audit-checkpointer.js';
export { startAuditCheckpoints } from './audit-checkpoints.js';
export type { AuditCheckpoints, AuditCheckpointsDeps } from './audit-checkpoints.js';
export {
  latestCheckpoint,
  readBase,
  readCheckpoints,
  storedCheckpointKeys,
} from './checkpoint-store.js';
export { readReceivedCheckpoints, CHECKPOINT_EVENT_TYPE } from './received-checkpoints.js';
export type { ReceivedCheckpoint, ReceivedCheckpoints } from './received-checkpoints.js';
export { ARCHIVED_TARGET, verifyAuditTrail } from './trail-verification.js';
export type { TrailOptions, TrailProblem, TrailVerdict } from './trail-verification.js';
export { archiveAudit, archiveDue } from './audit-archive.js';
export {
  AuditRetention,
  DEFAULT_RETENTION_SEGMENT_ROWS,
  DEFAULT_RETENTION_TICK_MS,
} from './audit-retention.js';
export type { AuditRetentionDeps } from './audit-retention.js';
export type { ArchiveBoundary, ArchiveRequest, ArchiveResult } from './audit-archive.js';
export { archiveKeys, verifyArchive } from './archive-verification.js';
export type { ArchiveVerdict } from './archive-verification.js';
export { SEGMENT_FORMAT, SEGMENT_VERSION, segmentFiles } from './archive-segment.js';
export type { SegmentManifest } from './archive-segment.js';
