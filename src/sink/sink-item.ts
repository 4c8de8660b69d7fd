// What a sink carries: committed audit rows and signed checkpoints of the chain, each with its seq.
import type { AuditRecord } from '../audit/index.js';
import { toOcsfEvent, type OcsfProduct } from '../ocsf/index.js';

/**
 * One event for a sink. Every kind carries the `seq` of the chain it refers to, which is what
 * receivers de-duplicate on and detect gaps with. A checkpoint (a signed `{seq, hash}` of the
 * chain head, src/checkpoint) is sent after the row it closes; `signature` is its compact JWS.
 */
export type SinkItem =
  | { readonly kind: 'record'; readonly seq: number; readonly record: AuditRecord }
  | {
      readonly kind: 'checkpoint';
      readonly seq: number;
      readonly hash: string;
      readonly time: string;
      readonly keyId: string;
      readonly signature: string;
    };

/** The payload format of the sinks (`HALLMARK_AUDIT_FORMAT`). */
export type SinkFormat = 'ocsf' | 'hallmark';

/** The row as `GET /v1/audit` returns it (snake_case). */
export function hallmarkEvent(record: AuditRecord): Record<string, unknown> {
  return {
    seq: record.seq,
    time: record.time,
    actor: record.actor,
    action: record.action,
    target: record.target,
    outcome: record.outcome,
    reason: record.reason,
    request_id: record.requestId,
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

/** The JSON payload of an item in the chosen format. */
export function payloadOf(
  item: SinkItem,
  format: SinkFormat,
  product: OcsfProduct,
): Record<string, unknown> {
  if (item.kind === 'checkpoint') {
    // Not an audited action, so no OCSF class: the same shape in both formats (docs/audit.md).
    const { seq, hash, time, keyId, signature } = item;
    return { checkpoint: { seq, hash, time, kid: keyId, jws: signature } };
  }
  return format === 'ocsf' ? toOcsfEvent(item.record, product) : hallmarkEvent(item.record);
}
