// The audit log port: every decision is appended here before its response is sent.
import type { AuditEvent, AuditRecord } from './audit-record.js';

/**
 * Append-only audit log. `append` resolves only after the row is durably committed; it
 * rejects with `ERR_AUDIT_UNAVAILABLE` otherwise, and callers then fail the request (fail
 * closed: no audit row, no certificate, no secret).
 */
export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
}

/** Receives each committed record (the server writes it as one JSON line on stdout). */
export type AuditSink = (record: AuditRecord) => void;
