// Audit records and their hash chain: canonical form and hashing, pure.
import { createHash } from 'node:crypto';
import type { AuditAction } from './audit-actions.js';

/** What happened, as the caller reports it. Never contains a secret value or credential. */
export interface AuditEvent {
  /** SPIFFE ID, `key:<id>`, an OSB originating identity, or `anonymous`. */
  actor: string;
  /** Dotted verb from the registry (`audit-actions.ts`), e.g. `svid.x509.issued`. */
  action: AuditAction;
  /** What was acted on: a SPIFFE ID, a secret path and version, a policy version. */
  target: string;
  outcome: 'success' | 'denied' | 'error';
  /** Error code for refusals and failures; empty on success. */
  reason?: string;
  requestId?: string;
}

/**
 * An event as stored before it is chained (`audit_pending`): a replica of another version may
 * have staged an action this one does not know, and it is chained as it is.
 */
export type StoredEvent = Omit<AuditEvent, 'action'> & { action: string };

/** One committed row of the chain. */
export interface AuditRecord {
  seq: number;
  /** ISO-8601 with milliseconds, UTC. */
  time: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  reason: string;
  requestId: string;
  prevHash: string;
  hash: string;
}

/** `prev_hash` of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical serialisation that is hashed: a JSON object with a fixed key order, so the
 * same row always hashes the same regardless of how it was read back.
 */
export function canonicalRow(record: Omit<AuditRecord, 'hash' | 'prevHash'>): string {
  return JSON.stringify([
    record.seq,
    record.time,
    record.actor,
    record.action,
    record.target,
    record.outcome,
    record.reason,
    record.requestId,
  ]);
}

/** `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical row)`, hex. */
export function chainHash(
  prevHash: string,
  record: Omit<AuditRecord, 'hash' | 'prevHash'>,
): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalRow(record))
    .digest('hex');
}

/** Builds the next record of the chain from an event. */
export function nextRecord(
  prev: { seq: number; hash: string },
  event: StoredEvent,
  time: string,
): AuditRecord {
  const body = {
    seq: prev.seq + 1,
    time,
    actor: event.actor,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    reason: event.reason ?? '',
    requestId: event.requestId ?? '',
  };
  return { ...body, prevHash: prev.hash, hash: chainHash(prev.hash, body) };
}
