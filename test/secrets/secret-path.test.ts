// Secret path validation: traversal, encodings, look-alikes and limits are refused; plain paths pass.
import { describe, expect, it } from 'vitest';
import {
  MAX_SECRET_PATH_BYTES,
  isValidSecretPath,
  parseSecretPath,
  secretPathReason,
} from '../../src/secrets/index.js';
import { codeOf } from '../helpers/error-code.js';

const REJECTED: [string, string][] = [
  ['empty', ''],
  ['parent traversal', '../etc/passwd'],
  ['traversal in the middle', 'payments/../admin/key'],
  ['traversal at the end', 'payments/..'],
  ['current-directory segment', 'payments/./db'],
  ['lone dot', '.'],
  ['lone dot-dot', '..'],
  ['percent-encoded dots', '%2e%2e/etc'],
  ['percent-encoded upper-case dots', 'payments/%2E%2E/admin'],
  ['percent-encoded slash', 'payments%2fdb'],
  ['double-encoded dots', '%252e%252e/x'],
  ['double slash', 'payments//db'],
  ['leading slash', '/payments/db'],
  ['trailing slash', 'payments/db/'],
  ['only a slash', '/'],
  ['backslash', 'payments\\db'],
  ['backslash traversal', '..\\..\\windows'],
  ['NUL byte', 'payments/db\u0000.txt'],
  ['newline', 'payments/db\n'],
  ['tab', 'payments/\tdb'],
  ['space', 'payments/my secret'],
  ['question mark', 'payments/db?version=2'],
  ['hash', 'payments/db#x'],
  ['colon', 'c:/payments'],
  ['asterisk', 'payments/*'],
  ['tilde', '~/secret'],
  ['513 bytes', 'a'.repeat(MAX_SECRET_PATH_BYTES + 1)],
  ['513 bytes in segments', `${'abcdefg/'.repeat(64)}a`],
  ['fullwidth solidus', 'payments\uff0fdb'],
  ['division slash', 'payments\u2215db'],
  ['fraction slash', 'payments\u2044db'],
  ['one-dot leader pair', '\u2024\u2024/etc'],
  ['two-dot leader', '\u2025/etc'],
  ['fullwidth full stops', '\uff0e\uff0e/etc'],
  ['Cyrillic a', 'p\u0430yments/db'],
  ['Greek omicron', 'dem\u03bf/db'],
  ['non-breaking space', 'payments/\u00a0db'],
  ['zero-width space', 'payments/\u200bdb'],
  ['right-to-left override', 'payments/\u202edb'],
  ['combining dot', 'payments/.\u0307'],
  ['emoji', 'payments/\u{1f511}'],
  ['Latin-1 letter', 'payments/caf\u00e9'],
];

const ACCEPTED: string[] = [
  'a',
  'payments',
  'payments/db/password',
  'osb/6f1c2d3e-aaaa-bbbb-cccc-1234567890ab/credentials',
  'A.b_c-D/E9',
  '...',
  '..a/b..',
  '.hidden/x',
  'x/.env',
  'a'.repeat(MAX_SECRET_PATH_BYTES),
  `${'abcdefg/'.repeat(63)}abcdefgh`,
];

describe('secret paths', () => {
  it.each(REJECTED)('rejects %s', (_name, path) => {
    expect(isValidSecretPath(path)).toBe(false);
    expect(secretPathReason(path)).toBeTypeOf('string');
    expect(codeOf(() => parseSecretPath(path))).toBe('ERR_SECRET_BAD_PATH');
  });

  it.each(ACCEPTED)('accepts %j', (path) => {
    expect(isValidSecretPath(path)).toBe(true);
    expect(secretPathReason(path)).toBeUndefined();
    expect(parseSecretPath(path)).toBe(path);
  });

  it('counts the 512-byte limit exactly', () => {
    expect(`${'abcdefg/'.repeat(63)}abcdefgh`).toHaveLength(MAX_SECRET_PATH_BYTES);
    expect(isValidSecretPath(`${'abcdefg/'.repeat(63)}abcdefgh`)).toBe(true);
    expect(isValidSecretPath(`${'abcdefg/'.repeat(63)}abcdefghi`)).toBe(false);
  });

  it('rejects every ASCII byte outside [A-Za-z0-9._-] inside a segment', () => {
    const allowed = /^[A-Za-z0-9._-]$/;
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      if (ch === '/') continue;
      expect(isValidSecretPath(`a${ch}b`), `byte 0x${c.toString(16)}`).toBe(allowed.test(ch));
    }
  });
});
