// When to prepare, activate and retire CAs: pure threshold functions over saved state.

/** A CA as the rotation rules see it; `distrusted` is an operator's decision, never undone. */
export interface CaSlot {
  id: number;
  status: 'prepared' | 'active' | 'old' | 'distrusted';
  notBefore: number;
  notAfter: number;
  /** True while a PKCS#11 token still holds the CA's private key. */
  tokenKey?: boolean;
}

/** The transition the rotator should make now, if any. */
export type RotationStep =
  { kind: 'bootstrap' } | { kind: 'prepare' } | { kind: 'activate'; id: number } | { kind: 'none' };

/**
 * SPIRE's schedule: the next CA is prepared (and published in the bundle) once half of the
 * active CA's lifetime has passed, and activated when one sixth remains. Publishing early
 * gives every relying party a full third of a lifetime to fetch the new bundle before any
 * SVID is signed by the new key.
 */
export function nextRotationStep(slots: readonly CaSlot[], now: number): RotationStep {
  const active = slots.find((slot) => slot.status === 'active');
  const prepared = slots.find((slot) => slot.status === 'prepared');
  if (!active) return prepared ? { kind: 'activate', id: prepared.id } : { kind: 'bootstrap' };
  const lifetime = active.notAfter - active.notBefore;
  if (!prepared) {
    return now >= active.notBefore + lifetime / 2 ? { kind: 'prepare' } : { kind: 'none' };
  }
  return now >= active.notAfter - lifetime / 6
    ? { kind: 'activate', id: prepared.id }
    : { kind: 'none' };
}

/**
 * Old CAs whose private key is still in the token although their certificate has expired:
 * every certificate they signed has expired too (an SVID never outlives its CA), so the key
 * can be destroyed. Sealed keys of old CAs are left as they always were.
 */
export function spentTokenKeys<T extends CaSlot>(slots: readonly T[], now: number): T[] {
  return slots.filter(
    (slot) => slot.status === 'old' && slot.tokenKey === true && now >= slot.notAfter,
  );
}

/** CAs whose certificates belong in the trust bundle: every one not yet expired nor distrusted. */
export function publishedSlots<T extends CaSlot>(slots: readonly T[], now: number): T[] {
  return slots.filter((slot) => slot.status !== 'distrusted' && slot.notAfter > now);
}

/** How often the rotator should look: often enough to hit each threshold within ~1 % of a lifetime. */
export function rotationTickMs(caTtlSeconds: number): number {
  return Math.max(1_000, Math.min(60_000, Math.floor((caTtlSeconds * 1000) / 100)));
}
