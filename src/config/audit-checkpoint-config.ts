// The audit checkpoints' configuration: how often the chain head is signed, how often the key rotates.
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** When checkpoints are signed and how long one checkpoint key signs. */
export interface AuditCheckpointConfig {
  /** `HALLMARK_AUDIT_CHECKPOINT_INTERVAL`: sign the head this often if it moved (default 1m). */
  readonly intervalSeconds: number;
  /** `HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION`: how long one key signs (default 30d). */
  readonly keyRotationSeconds: number;
}

/** The variables read here, for the unknown-variable check. */
export const AUDIT_CHECKPOINT_VARIABLES = [
  'HALLMARK_AUDIT_CHECKPOINT_INTERVAL',
  'HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION',
] as const;

const DAY = 86_400;

/** Reads and checks the checkpoint variables. Throws {@link ConfigError}. */
export function readAuditCheckpoints(reader: EnvReader): AuditCheckpointConfig {
  const intervalSeconds = reader.duration('HALLMARK_AUDIT_CHECKPOINT_INTERVAL', '1m', DAY);
  const keyRotationSeconds = reader.duration(
    'HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION',
    '30d',
    3650 * DAY,
  );
  // A successor is published 30 s before it signs and prepared half a period ahead.
  if (keyRotationSeconds < 120) {
    throw new ConfigError('HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION', 'must be at least 2m');
  }
  return { intervalSeconds, keyRotationSeconds };
}
