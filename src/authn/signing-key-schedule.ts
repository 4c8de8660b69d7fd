// Access-token signing keys rotate on the shared key schedule; their names for it and defaults.
import type { KeySchedule, KeySlot, KeyStatus, RotationStep } from '../keyring/index.js';

export {
  expiredSlots,
  nextRotationStep as nextSigningKeyStep,
  retentionMs,
  rotationTickMs as signingKeyTickMs,
  verificationSlots,
} from '../keyring/index.js';

/** Lifecycle of a signing key (prepared → active → retired). */
export type SigningKeyStatus = KeyStatus;

/** A signing key as the rotation rules see it. */
export type SigningKeySlot = KeySlot;

/**
 * The timing parameters of access-token key rotation; `tokenTtlMs` is `HALLMARK_TOKEN_TTL`
 * and `rotationPeriodMs` defaults to one day.
 */
export type SigningKeySchedule = KeySchedule;

/** The one transition the rotator should make now. */
export type SigningKeyStep = RotationStep;

/** Defaults: rotate daily, 8-minute tokens, 5 s skew, replicas reload every 30 s. */
export const DEFAULT_SIGNING_KEY_SCHEDULE: SigningKeySchedule = Object.freeze({
  rotationPeriodMs: 24 * 3_600_000,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
});
