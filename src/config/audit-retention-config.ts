// The audit retention policy's configuration: where segments go, how long rows stay online and in all.
import path from 'node:path';
import { ConfigError } from './config-error.js';
import type { EnvReader } from './env-reader.js';

/** How long audit history is kept, and where archived segments are written. */
export interface AuditRetentionConfig {
  /** `HALLMARK_AUDIT_ARCHIVE_DIR`: where segments are written (absolute); `undefined`: no archive. */
  readonly archiveDir: string | undefined;
  /**
   * `HALLMARK_AUDIT_RETENTION_ONLINE`: rows older than this are archived and deleted from
   * PostgreSQL automatically; `undefined`: rows are never archived automatically.
   */
  readonly onlineSeconds: number | undefined;
  /**
   * `HALLMARK_AUDIT_ARCHIVE_RETENTION`: how old a row's segment must get before the operator may
   * destroy it (counted from the row's commit, like the online period). Hallmark never deletes a
   * segment itself; it declares this period for `hallmark compliance` (HM-LOG-04).
   */
  readonly archiveSeconds: number | undefined;
}

/** The variables read here, for the unknown-variable check. */
export const AUDIT_RETENTION_VARIABLES = [
  'HALLMARK_AUDIT_ARCHIVE_DIR',
  'HALLMARK_AUDIT_RETENTION_ONLINE',
  'HALLMARK_AUDIT_ARCHIVE_RETENTION',
] as const;

const DAY = 86_400;

/**
 * Reads and checks the retention variables against the settings they depend on. Rows are
 * archived only up to a signed checkpoint, so the online period must span at least two
 * checkpoint intervals; and a healthy sink must have confirmed a row before it leaves
 * PostgreSQL, so it must span the sink lag alarm too. Throws {@link ConfigError}.
 */
export function readAuditRetention(
  reader: EnvReader,
  needs: { readonly checkpointIntervalSeconds: number; readonly sinkLagAlarmSeconds: number },
): AuditRetentionConfig {
  const dir = reader.optional('HALLMARK_AUDIT_ARCHIVE_DIR');
  const online = reader.optional('HALLMARK_AUDIT_RETENTION_ONLINE');
  const archive = reader.optional('HALLMARK_AUDIT_ARCHIVE_RETENTION');
  const onlineSeconds =
    online === undefined
      ? undefined
      : reader.duration('HALLMARK_AUDIT_RETENTION_ONLINE', online, 100 * 365 * DAY);
  const archiveSeconds =
    archive === undefined
      ? undefined
      : reader.duration('HALLMARK_AUDIT_ARCHIVE_RETENTION', archive, 100 * 365 * DAY);
  if (dir === undefined) {
    // Archiving to nowhere, or declaring how long nothing is kept, would be a policy on paper.
    if (onlineSeconds !== undefined) {
      throw new ConfigError(
        'HALLMARK_AUDIT_ARCHIVE_DIR',
        'required when HALLMARK_AUDIT_RETENTION_ONLINE is set (rows are archived there)',
      );
    }
    if (archiveSeconds !== undefined) {
      throw new ConfigError(
        'HALLMARK_AUDIT_ARCHIVE_DIR',
        'required when HALLMARK_AUDIT_ARCHIVE_RETENTION is set (it is the archive it describes)',
      );
    }
  } else if (!path.isAbsolute(dir)) {
    throw new ConfigError('HALLMARK_AUDIT_ARCHIVE_DIR', `expected an absolute path, got "${dir}"`);
  }
  if (onlineSeconds !== undefined) {
    const minimum = Math.max(2 * needs.checkpointIntervalSeconds, needs.sinkLagAlarmSeconds);
    if (onlineSeconds < minimum) {
      throw new ConfigError(
        'HALLMARK_AUDIT_RETENTION_ONLINE',
        `must be at least ${minimum}s: twice HALLMARK_AUDIT_CHECKPOINT_INTERVAL (only checkpointed rows are archived) and HALLMARK_AUDIT_SINK_LAG_ALARM (sinks confirm rows before they leave PostgreSQL)`,
      );
    }
  }
  if (
    archiveSeconds !== undefined &&
    onlineSeconds !== undefined &&
    archiveSeconds < onlineSeconds
  ) {
    throw new ConfigError(
      'HALLMARK_AUDIT_ARCHIVE_RETENTION',
      'must be at least HALLMARK_AUDIT_RETENTION_ONLINE: both count from the row’s commit, and rows reach the archive only after the online period',
    );
  }
  return { archiveDir: dir, onlineSeconds, archiveSeconds };
}
