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

describe('audit checkpoint configuration', () => {
  it('defaults to a checkpoint every minute and a key rotated every 30 days', () => {
    expect(loadServerConfig({ env: {} }).auditCheckpoints).toEqual({
      intervalSeconds: 60,
      keyRotationSeconds: 30 * 86_400,
    });
    expect(
      loadServerConfig({
        env: {
          HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '10s',
          HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION: '7d',
        },
      }).auditCheckpoints,
    ).toEqual({ intervalSeconds: 10, keyRotationSeconds: 7 * 86_400 });
  });

  it('refuses bad values naming the variable', () => {
    expect(variableOf({ HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '60' })).toBe(
      'HALLMARK_AUDIT_CHECKPOINT_INTERVAL',
    );
    expect(variableOf({ HALLMARK_AUDIT_CHECKPOINT_INTERVAL: '2d' })).toBe(
      'HALLMARK_AUDIT_CHECKPOINT_INTERVAL',
    );
    expect(variableOf({ HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION: '1m' })).toBe(
      'HALLMARK_AUDIT_CHECKPOINT_KEY_ROTATION',
    );
  });
});
