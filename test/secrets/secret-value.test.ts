// Secret values: UTF-8 byte limits, unpaired surrogates, strict decoding.
import { describe, expect, it } from 'vitest';
import {
  decodeSecretValue,
  encodeSecretValue,
  firstLoneSurrogate,
} from '../../src/secrets/index.js';
import { codeOf, errorOf } from '../helpers/error-code.js';

describe('encodeSecretValue', () => {
  it('returns the UTF-8 bytes of well-formed text', () => {
    expect(encodeSecretValue('pässwörd', 100)).toEqual(Buffer.from('pässwörd', 'utf8'));
    expect(encodeSecretValue('', 100).length).toBe(0);
    expect(encodeSecretValue('\u{1F511}', 4).length).toBe(4);
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    expect(encodeSecretValue('€'.repeat(3), 9).length).toBe(9);
    expect(codeOf(() => encodeSecretValue('€'.repeat(3), 8))).toBe('ERR_SECRET_TOO_LARGE');
    expect(codeOf(() => encodeSecretValue('x'.repeat(11), 10))).toBe('ERR_SECRET_TOO_LARGE');
    expect(codeOf(() => encodeSecretValue('\u{1F511}', 3))).toBe('ERR_SECRET_TOO_LARGE');
  });

  it.each([
    ['high surrogate alone', 'a\ud800'],
    ['low surrogate alone', '\udc00b'],
    ['reversed pair', '\udc00\ud800'],
    ['high then letter', '\ud83dx'],
  ])('refuses a %s', (_name, value) => {
    expect(codeOf(() => encodeSecretValue(value, 100))).toBe('ERR_SECRET_BAD_VALUE');
  });

  it('refuses non-strings without echoing them', () => {
    for (const value of [42, null, undefined, { value: 'x' }, ['x']]) {
      expect(codeOf(() => encodeSecretValue(value, 100))).toBe('ERR_SECRET_BAD_VALUE');
    }
    const err = errorOf(() => encodeSecretValue('top-secret-\ud800', 100));
    expect((err as { code?: string }).code).toBe('ERR_SECRET_BAD_VALUE');
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(
      'top-secret',
    );
  });
});

describe('firstLoneSurrogate', () => {
  it('finds the offset of the first unpaired surrogate', () => {
    expect(firstLoneSurrogate('ok \u{1F511} ok')).toBe(-1);
    expect(firstLoneSurrogate('ab\ud800')).toBe(2);
    expect(firstLoneSurrogate('\u{1F511}\udc00')).toBe(2);
  });
});

describe('decodeSecretValue', () => {
  it('round-trips and refuses invalid UTF-8 instead of replacing it', () => {
    expect(decodeSecretValue(Buffer.from('\ufeffbom kept', 'utf8'))).toBe('\ufeffbom kept');
    expect(() => decodeSecretValue(Buffer.from([0x61, 0xc3]))).toThrow();
    expect(() => decodeSecretValue(Buffer.from([0xc0, 0xae]))).toThrow();
  });

  it('decodes each value on its own: a refused or truncated value leaves nothing behind', () => {
    expect(() => decodeSecretValue(Buffer.from([0x61, 0xe2, 0x82]))).toThrow();
    // With the truncated € still pending this byte would complete it.
    expect(() => decodeSecretValue(Buffer.from([0xac]))).toThrow();
    expect(() => decodeSecretValue(Buffer.from([0xf0, 0x9f]))).toThrow();
    expect(decodeSecretValue(Buffer.from('\ufeffnext', 'utf8'))).toBe('\ufeffnext');
  });
});
