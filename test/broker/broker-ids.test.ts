// Instance and binding ids, and the names derived from them.
import { describe, expect, it } from 'vitest';
import { brokerTarget, checkBrokerId, newApiKeyId, scopePrefix } from '../../broker/broker-ids.js';
import { apiKeyIdentity } from '../../src/policy/index.js';
import { isValidSecretPath } from '../../src/secrets/index.js';

describe('broker ids', () => {
  it('accepts GUIDs and path-segment ids up to 100 characters', () => {
    for (const id of ['196fb1d7-b62b-4bb3-8a3a-cfa13a11fd95', 'a', 'A.b_c-1', 'x'.repeat(100)]) {
      expect(checkBrokerId(id, 'instance_id'), id).toBe(id);
      expect(isValidSecretPath(`${scopePrefix(id)}name`), id).toBe(true);
    }
  });

  it('refuses what is not one safe path segment', () => {
    for (const id of [
      '',
      '.',
      '..',
      '.hidden',
      '-x',
      '_x',
      'a/b',
      'a b',
      'a%2Fb',
      'ä',
      'x'.repeat(101),
      'a\nb',
      '~a',
    ]) {
      expect(() => checkBrokerId(id, 'binding_id'), JSON.stringify(id)).toThrow(
        expect.objectContaining({ code: 'ERR_BROKER_REQUEST_INVALID' }),
      );
    }
  });

  it('derives fresh, valid API-key ids from the binding id', () => {
    const longest = 'x'.repeat(100);
    const a = newApiKeyId(longest);
    const b = newApiKeyId(longest);
    expect(a).toMatch(/^osb-x{100}\.[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(apiKeyIdentity(a)).toBe(`key:${a}`);
  });

  it('quotes and bounds ids that fail validation in audit targets', () => {
    expect(brokerTarget('abc', 'def')).toBe('osb/abc/bindings/def');
    expect(brokerTarget('a\nb')).toBe('osb/"a\\nb"');
    expect(brokerTarget('/'.repeat(500)).length).toBeLessThan(80);
  });
});
