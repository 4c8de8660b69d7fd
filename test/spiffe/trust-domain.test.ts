// Trust domain parsing: bare names and spiffe:// forms, every byte, go-spiffe's wording.
import { describe, expect, it } from 'vitest';
import { isHallmarkError } from '../../src/errors/index.js';
import { VALIDATION_REASON, parseTrustDomain } from '../../src/spiffe/index.js';

const TD_CHARS = new Set('abcdefghijklmnopqrstuvwxyz0123456789.-_');

function caught(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isHallmarkError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a HallmarkError, nothing was thrown');
}

function expectInvalid(input: string, reason: string): void {
  expect(caught(() => parseTrustDomain(input))).toEqual({
    code: 'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
    message: reason,
  });
}

describe('parseTrustDomain', () => {
  it.each(Array.from({ length: 256 }, (_, i) => i))('byte 0x%s', (i) => {
    const c = String.fromCharCode(i);
    if (TD_CHARS.has(c)) {
      expect(parseTrustDomain(`trustdomain${c}`)).toBe(`trustdomain${c}`);
      expect(parseTrustDomain(`spiffe://trustdomain${c}`)).toBe(`trustdomain${c}`);
    } else {
      expectInvalid(`trustdomain${c}`, VALIDATION_REASON.badTrustDomainChar);
    }
  });

  it('accepts the bare and the spiffe:// forms', () => {
    expect(parseTrustDomain('hallmark.local')).toBe('hallmark.local');
    expect(parseTrustDomain('spiffe://hallmark.local')).toBe('hallmark.local');
    // like go-spiffe, a valid ID's trust domain is taken and its path dropped
    expect(parseTrustDomain('spiffe://hallmark.local/ns/a/sa/b')).toBe('hallmark.local');
  });

  it.each([
    ['', VALIDATION_REASON.missingTrustDomain],
    ['spiffe:/trustdomain/path', VALIDATION_REASON.wrongScheme],
    ['https://trustdomain', VALIDATION_REASON.wrongScheme],
    ['spiffe://', VALIDATION_REASON.missingTrustDomain],
    ['spiffe:///path', VALIDATION_REASON.missingTrustDomain],
    ['spiffe://trustdomain/', VALIDATION_REASON.trailingSlash],
    ['spiffe://trustdomain/path/', VALIDATION_REASON.trailingSlash],
    ['spiffe://trustdomain/../x', VALIDATION_REASON.dotSegment],
    ['spiffe://%F0%9F%A4%AF/path', VALIDATION_REASON.badTrustDomainChar],
    ['spiffe://trustdomain/%F0%9F%A4%AF', VALIDATION_REASON.badPathSegmentChar],
    ['Hallmark.local', VALIDATION_REASON.badTrustDomainChar],
    ['hallmark.local:8443', VALIDATION_REASON.badTrustDomainChar],
    ['user@hallmark.local', VALIDATION_REASON.badTrustDomainChar],
    ['spiffe://td:1', VALIDATION_REASON.badTrustDomainChar],
  ])('rejects %j: %s', (input, reason) => {
    expectInvalid(input, reason);
  });

  it('limits the name to 255 bytes in both forms', () => {
    const td255 = 'a'.repeat(255);
    expect(parseTrustDomain(td255)).toBe(td255);
    expect(parseTrustDomain(`spiffe://${td255}`)).toBe(td255);
    expectInvalid(`${td255}a`, VALIDATION_REASON.trustDomainTooLong);
    expectInvalid(`spiffe://${td255}a`, VALIDATION_REASON.trustDomainTooLong);
  });
});
