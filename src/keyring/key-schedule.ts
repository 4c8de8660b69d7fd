// When rotating signing keys are prepared, activated, retired and dropped: pure thresholds.

/**
 * Lifecycle of a key; it only ever moves forward (SPIRE's prepared → active → old). Any key may
 * end `distrusted` (an operator's decision after a compromise): it signs and verifies nothing
 * and is published nowhere from then on.
 */
export type KeyStatus = 'prepared' | 'active' | 'retired' | 'distrusted';

/** A key as the rotation rules see it (times in epoch milliseconds). */
export interface KeySlot {
  readonly kid: string;
  readonly status: KeyStatus;
  readonly createdAt: number;
  /** When it became active; `undefined` while prepared. */
  readonly activatedAt: number | undefined;
  /** When a newer key replaced it or it was distrusted; `undefined` before either. */
  readonly retiredAt: number | undefined;
}

/** The timing parameters of rotation, fixed at start. */
export interface KeySchedule {
  /** How long one key signs before the next takes over. */
  readonly rotationPeriodMs: number;
  /** The longest lifetime of any token a key signs. */
  readonly tokenTtlMs: number;
  /** Clock skew verification tolerates on `exp` and `nbf`. */
  readonly clockToleranceMs: number;
  /** Longest time a replica may take to notice a change without NOTIFY (its reload tick). */
  readonly propagationMs: number;
}

/** The one transition the rotator should make now. */
export type RotationStep =
  | { readonly kind: 'bootstrap' }
  | { readonly kind: 'prepare' }
  /** Activates `kid`; the key active until now (if any) becomes retired. */
  | { readonly kind: 'activate'; readonly kid: string }
  | { readonly kind: 'drop'; readonly kids: readonly string[] }
  | { readonly kind: 'none' };

/**
 * How long a retired key must still verify: a replica that has not yet noticed the rotation may
 * keep signing with it for up to `propagationMs`, and each such token lives `tokenTtlMs` plus
 * the skew verification tolerates.
 */
export function retentionMs(schedule: KeySchedule): number {
  return schedule.tokenTtlMs + schedule.clockToleranceMs + schedule.propagationMs;
}

/**
 * Retired keys whose every token has expired, so they can be deleted; distrusted keys likewise
 * (they verify nothing, their row only says so until no token they signed can be presented).
 */
export function expiredSlots<T extends KeySlot>(
  slots: readonly T[],
  now: number,
  schedule: KeySchedule,
): T[] {
  const keep = retentionMs(schedule);
  return slots.filter(
    (slot) =>
      (slot.status === 'retired' || slot.status === 'distrusted') &&
      now >= (slot.retiredAt ?? slot.createdAt) + keep,
  );
}

/**
 * The next rotation step. The successor is prepared (and so published to every replica for
 * verification) half a period before it is due, and activated once the period is over and every
 * replica has had at least `propagationMs` to load it, so no replica ever receives a token
 * signed by a key it has not seen.
 */
export function nextRotationStep(
  slots: readonly KeySlot[],
  now: number,
  schedule: KeySchedule,
): RotationStep {
  const active = slots.find((slot) => slot.status === 'active');
  const prepared = slots.find((slot) => slot.status === 'prepared');
  if (active === undefined) {
    return prepared ? { kind: 'activate', kid: prepared.kid } : { kind: 'bootstrap' };
  }
  const expired = expiredSlots(slots, now, schedule);
  if (expired.length > 0) return { kind: 'drop', kids: expired.map((slot) => slot.kid) };
  const since = active.activatedAt ?? active.createdAt;
  if (prepared === undefined) {
    return now >= since + schedule.rotationPeriodMs / 2 ? { kind: 'prepare' } : { kind: 'none' };
  }
  const due = now >= since + schedule.rotationPeriodMs;
  const published = now >= prepared.createdAt + schedule.propagationMs;
  return due && published ? { kind: 'activate', kid: prepared.kid } : { kind: 'none' };
}

/** Keys every replica must accept signatures from now: all but the dropped and distrusted. */
export function verificationSlots<T extends KeySlot>(
  slots: readonly T[],
  now: number,
  schedule: KeySchedule,
): T[] {
  const expired = new Set(expiredSlots(slots, now, schedule));
  return slots.filter((slot) => slot.status !== 'distrusted' && !expired.has(slot));
}

/** How often each replica reloads keys and runs the rotation check. */
export function rotationTickMs(schedule: KeySchedule): number {
  return Math.max(1_000, Math.min(schedule.propagationMs, schedule.rotationPeriodMs / 100));
}
