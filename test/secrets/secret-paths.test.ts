// Secret paths at the edges: raw request targets (routes), client targets, prefixes, quoting.
import { describe, expect, it } from 'vitest';
import { secretTarget } from '../../src/client/index.js';
import { rawSecretPath } from '../../src/http/routes/secret-request-path.js';
import { parseSecretPath, quotePath, validateSecretPrefix } from '../../src/secrets/index.js';
import { codeOf } from '../helpers/error-code.js';

describe('rawSecretPath', () => {
  it('cuts the path from the raw target without decoding it', () => {
    expect(rawSecretPath('/v1/secrets/a/b')).toBe('a/b');
    expect(rawSecretPath('/v1/secrets/a/b?version=2')).toBe('a/b');
    expect(rawSecretPath('/v1/secrets/a%2Fb')).toBe('a%2Fb');
    expect(rawSecretPath('/v1/secrets/%2e%2e/x')).toBe('%2e%2e/x');
    expect(rawSecretPath('/v1/secrets/')).toBe('');
  });

  it('refuses a target whose prefix was spelled differently', () => {
    expect(codeOf(() => rawSecretPath('/v1/%73ecrets/a'))).toBe('ERR_SECRET_BAD_PATH');
    expect(codeOf(() => rawSecretPath('/V1/secrets/a'))).toBe('ERR_SECRET_BAD_PATH');
  });
});

describe('secretTarget', () => {
  it('keeps valid paths verbatim and escapes everything else', () => {
    expect(secretTarget('payments/db-pass_1.txt')).toBe('/v1/secrets/payments/db-pass_1.txt');
    expect(secretTarget('a?b#c d')).toBe('/v1/secrets/a%3Fb%23c%20d');
    expect(secretTarget('a/../b')).toBe('/v1/secrets/a/../b');
    expect(secretTarget('\u2215')).toBe('/v1/secrets/%E2%88%95');
  });
});

describe('path helpers', () => {
  it('checks paths and names them in the error', () => {
    expect(parseSecretPath('a/b')).toBe('a/b');
    expect(() => parseSecretPath('a//b')).toThrow(/invalid secret path: "a\/\/b"/);
  });

  it('quotes invalid paths visibly and boundedly', () => {
    expect(quotePath('a\u0000b')).toBe('"a\\u0000b"');
    expect(quotePath('\ud800')).toBe('"\\ud800"');
    expect(quotePath('x'.repeat(1000)).length).toBeLessThan(130);
  });

  it('accepts only scope prefixes ending in a slash', () => {
    expect(validateSecretPrefix('osb/i1/')).toBe('osb/i1/');
    for (const bad of ['', '/', 'osb', 'osb//', '../', 'osb/../x/']) {
      expect([bad, codeOf(() => validateSecretPrefix(bad))]).toEqual([bad, 'ERR_SECRET_BAD_PATH']);
    }
  });
});
