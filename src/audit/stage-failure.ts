// Why staging a change's audit row failed: the database could not take it, or the change was wrong.
import { isUnavailableError } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';

// SQLSTATE classes that mean the database (not the statement) failed: connection (08), a
// read-only standby after failover (25006), transient rollbacks (40), resources such as a
// full disk (53), a lock or statement timeout (55P03, 57014), shutdown (57P), I/O (58) and
// internal errors (XX). See PostgreSQL's "Appendix A. PostgreSQL Error Codes".
const DATABASE_FAULT = /^(08|25006|40|53|55P03|57|58|XX)/;

/** True when `cause` says the database could not store the row, not that the row was wrong. */
export function isDatabaseFault(cause: unknown): boolean {
  if (cause instanceof HallmarkError)
    return cause.code === 'ERR_AUDIT_UNAVAILABLE' || cause.code === 'ERR_DB_UNAVAILABLE';
  if (isUnavailableError(cause)) return true;
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DATABASE_FAULT.test(code);
}

/**
 * The error a failed stage fails its change with (the transaction is aborted and rolls back
 * either way). A database fault is `ERR_AUDIT_UNAVAILABLE` (503: retry later). Anything else
 * — a data exception, a violated constraint of the change's own table, a bug — is rethrown as
 * it is, so a wrong request or a defect is not disguised as an outage that retries would cure.
 */
export function stageFailure(cause: unknown): unknown {
  if (cause instanceof HallmarkError && cause.code === 'ERR_AUDIT_UNAVAILABLE') return cause;
  if (!isDatabaseFault(cause)) return cause;
  return new HallmarkError('ERR_AUDIT_UNAVAILABLE', { cause, detail: (cause as Error)?.message });
}
