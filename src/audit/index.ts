// Public surface of the audit log.
export { GENESIS_HASH, canonicalRow, chainHash, nextRecord } from './audit-record.js';
export type { AuditEvent, AuditRecord } from './audit-record.js';
export {
  AUDIT_ACTIONS,
  HTTP_AUDIT_ACTIONS,
  NAMED_AUDIT_ACTIONS,
  httpAuditAction,
} from './audit-actions.js';
export type { AuditAction, HttpAuditAction, NamedAuditAction } from './audit-actions.js';
export type { AuditLog, AuditSink, BatchedChange } from './audit-log.js';
export { ChainVerifier, verifyChain } from './chain-verifier.js';
export type { ChainVerdict } from './chain-verifier.js';
export { DEFAULT_STAGED_POLL_MS, PgAuditLog } from './pg-audit-log.js';
export {
  archivedRowTargets,
  auditHeadSeq,
  auditRowHash,
  auditRowsAfter,
  firstAuditRowAfter,
  firstAuditSeqSince,
  lastAuditSeqBefore,
  oldestAuditSeq,
  readAuditHead,
  readAuditPage,
  verifyAuditChain,
} from './audit-reader.js';
export { deleteChainPrefix } from './chain-store.js';
export type { AuditVerification, ChainWalk } from './audit-reader.js';
