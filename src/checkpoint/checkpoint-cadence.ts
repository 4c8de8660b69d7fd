// When the next checkpoint is due: every interval or every N rows, whichever first, if the head moved.

/** The cadence settings (`HALLMARK_AUDIT_CHECKPOINT_INTERVAL`, and the row bound). */
export interface CheckpointCadence {
  readonly intervalMs: number;
  /** Rows after the last checkpoint that make the next one due at once. */
  readonly maxRows: number;
}

/** Default: every minute, or every 10,000 rows. */
export const DEFAULT_CHECKPOINT_CADENCE: CheckpointCadence = Object.freeze({
  intervalMs: 60_000,
  maxRows: 10_000,
});

/** What the rule decided. */
export type CadenceDecision =
  | { readonly kind: 'sign' }
  | { readonly kind: 'wait' }
  /** The head is below the last checkpoint: rows after it were deleted. Never sign that. */
  | { readonly kind: 'behind' };

/**
 * The decision for a head and the last checkpoint (times in epoch ms). Nothing is signed while
 * the head has not moved, so an idle chain adds no checkpoints.
 */
export function checkpointDue(
  head: { readonly seq: number } | undefined,
  last: { readonly seq: number; readonly time: number } | undefined,
  now: number,
  cadence: CheckpointCadence,
): CadenceDecision {
  const headSeq = head?.seq ?? 0;
  if (last === undefined) return headSeq > 0 ? { kind: 'sign' } : { kind: 'wait' };
  if (headSeq < last.seq) return { kind: 'behind' };
  if (headSeq === last.seq) return { kind: 'wait' };
  if (headSeq - last.seq >= cadence.maxRows) return { kind: 'sign' };
  return now - last.time >= cadence.intervalMs ? { kind: 'sign' } : { kind: 'wait' };
}
