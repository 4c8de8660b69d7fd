// Access-token signing keys rotate on the shared key schedule (src/keyring); these are its defaults.
import type { KeySchedule } from '../keyring/index.js';

/**
 * Defaults: rotate daily, 8-minute tokens (`HALLMARK_TOKEN_TTL`), 5 s skew, replicas reload
 * every 30 s.
 */
export const DEFAULT_SIGNING_KEY_SCHEDULE: KeySchedule = Object.freeze({
  rotationPeriodMs: 24 * 3_600_000,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
});
