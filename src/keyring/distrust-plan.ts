// Whether a key may be distrusted now and what else must happen in the same step: pure.
import type { KeySlot } from './key-schedule.js';

/** What {@link planDistrust} decided. */
export type DistrustPlan =
  /** No such key. */
  | { readonly kind: 'unknown' }
  /** Distrusted already: nothing changes. */
  | { readonly kind: 'already' }
  /** The key signs now and no successor was asked for: distrusting it would leave none. */
  | { readonly kind: 'last' }
  /** Distrust it; with `activateSuccessor`, then prepare (if needed) and activate a successor. */
  | { readonly kind: 'distrust'; readonly activateSuccessor: boolean };

/**
 * The decision for distrusting `kid`. The key that signs now may only be distrusted together
 * with activating a successor (`rotate`), so the keyring is never left without a usable key;
 * any other key may go alone. With `rotate` a successor is activated whatever the key's status
 * (the operator asked for a fresh key), always after the distrusted one is out of the way, so
 * a distrusted prepared key can never be the one activated.
 */
export function planDistrust(
  slots: readonly KeySlot[],
  kid: string,
  rotate: boolean,
): DistrustPlan {
  const slot = slots.find((candidate) => candidate.kid === kid);
  if (slot === undefined) return { kind: 'unknown' };
  if (slot.status === 'distrusted') return { kind: 'already' };
  if (slot.status === 'active' && !rotate) return { kind: 'last' };
  return { kind: 'distrust', activateSuccessor: rotate };
}
