// The retention facts HM-LOG-04 reads, derived from the configured audit retention policy.
import type { AuditRetentionConfig } from '../config/index.js';
import type { RetentionFacts } from './installation-snapshot.js';

/**
 * What the server enforces and declares: `undefined` when no period is configured (nothing says
 * how long rows are kept); an archive retention counts only with a directory segments are
 * written to, since a period declared for an archive that does not exist keeps nothing.
 */
export function retentionFacts(config: AuditRetentionConfig): RetentionFacts | undefined {
  if (config.onlineSeconds === undefined && config.archiveSeconds === undefined) return undefined;
  return {
    onlineSeconds: config.onlineSeconds,
    archiveSeconds: config.archiveDir === undefined ? undefined : config.archiveSeconds,
    archiveDir: config.archiveDir,
  };
}
