// The retention policy's variables: defaults, what they require of each other, refusals by name.
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';

function variableOf(env: Record<string, string>): string | undefined {
  try {
    loadServerConfig({ env });
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_CONFIG_INVALID');
    return (err as { variable?: string }).variable;
  }
  return undefined;
}

const DAY = 86_400;

describe('audit retention configuration', () => {
  it('declares no policy by default: nothing archived, no archive', () => {
    expect(loadServerConfig({ env: {} }).auditRetention).toEqual({
      archiveDir: undefined,
      onlineSeconds: undefined,
      archiveSeconds: undefined,
    });
  });

  it('reads the archive directory, the online period and the archive retention', () => {
    expect(
      loadServerConfig({
        env: {
          HALLMARK_AUDIT_ARCHIVE_DIR: '/var/lib/hallmark-audit',
          HALLMARK_AUDIT_RETENTION_ONLINE: '90d',
          HALLMARK_AUDIT_ARCHIVE_RETENTION: '365d',
        },
      }).auditRetention,
    ).toEqual({
      archiveDir: '/var/lib/hallmark-audit',
      onlineSeconds: 90 * DAY,
      archiveSeconds: 365 * DAY,
    });
  });

  it('refuses a policy without an archive directory, naming HALLMARK_AUDIT_ARCHIVE_DIR', () => {
    expect(variableOf({ HALLMARK_AUDIT_RETENTION_ONLINE: '90d' })).toBe(
      'HALLMARK_AUDIT_ARCHIVE_DIR',
    );
    expect(variableOf({ HALLMARK_AUDIT_ARCHIVE_RETENTION: '365d' })).toBe(
      'HALLMARK_AUDIT_ARCHIVE_DIR',
    );
    expect(variableOf({ HALLMARK_AUDIT_ARCHIVE_DIR: 'relative/dir' })).toBe(
      'HALLMARK_AUDIT_ARCHIVE_DIR',
    );
  });

  it('refuses an online period shorter than the checkpoints and sinks need', () => {
    const dir = { HALLMARK_AUDIT_ARCHIVE_DIR: '/archive' };
    expect(variableOf({ ...dir, HALLMARK_AUDIT_RETENTION_ONLINE: '90' })).toBe(
      'HALLMARK_AUDIT_RETENTION_ONLINE',
    );
    // Default checkpoint interval 1m, default sink lag alarm 5m: 5m is the least.
    expect(variableOf({ ...dir, HALLMARK_AUDIT_RETENTION_ONLINE: '4m' })).toBe(
      'HALLMARK_AUDIT_RETENTION_ONLINE',
    );
    expect(variableOf({ ...dir, HALLMARK_AUDIT_RETENTION_ONLINE: '5m' })).toBeUndefined();
    expect(
      variableOf({
        ...dir,
        HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '1h',
        HALLMARK_AUDIT_RETENTION_ONLINE: '90m',
      }),
    ).toBe('HALLMARK_AUDIT_RETENTION_ONLINE');
  });

  it('refuses an archive retention shorter than the online period', () => {
    expect(
      variableOf({
        HALLMARK_AUDIT_ARCHIVE_DIR: '/archive',
        HALLMARK_AUDIT_RETENTION_ONLINE: '90d',
        HALLMARK_AUDIT_ARCHIVE_RETENTION: '30d',
      }),
    ).toBe('HALLMARK_AUDIT_ARCHIVE_RETENTION');
    expect(
      variableOf({
        HALLMARK_AUDIT_ARCHIVE_DIR: '/archive',
        HALLMARK_AUDIT_ARCHIVE_RETENTION: 'a year',
      }),
    ).toBe('HALLMARK_AUDIT_ARCHIVE_RETENTION');
  });
});
