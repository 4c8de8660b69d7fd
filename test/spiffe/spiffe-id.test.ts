// Conformance table for SPIFFE ID parsing: every byte, the spec's examples, and go-spiffe's wording.
import { describe, expect, it } from 'vitest';
import { isHallmarkError } from '../../src/errors/index.js';
import {
  VALIDATION_REASON,
  isMemberOf,
  parseSpiffeId,
  spiffeIdFromPath,
  workloadSpiffeId,
} from '../../src/spiffe/index.js';

const TD_CHARS = new Set('abcdefghijklmnopqrstuvwxyz0123456789.-_');
const PATH_CHARS = new Set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_');

/** Calls `fn` and returns the HallmarkError it throws (failing the test if it does not). */
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
  expect(caught(() => parseSpiffeId(input))).toEqual({
    code: 'ERR_SPIFFE_ID_INVALID',
    message: reason,
  });
}

describe('parseSpiffeId: every byte 0-255', () => {
  const bytes = Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 0x2f);

  it.each(bytes)('byte 0x%s in the trust domain', (i) => {
    const c = String.fromCharCode(i);
    const input = `spiffe://trustdomain${c}/path`;
    if (TD_CHARS.has(c)) {
      const id = parseSpiffeId(input);
      expect(id.trustDomain).toBe(`trustdomain${c}`);
      expect(id.path).toBe('/path');
      expect(id.toString()).toBe(input);
    } else {
      expectInvalid(input, VALIDATION_REASON.badTrustDomainChar);
    }
  });

  it.each(bytes)('byte 0x%s in a path segment', (i) => {
    const c = String.fromCharCode(i);
    const input = `spiffe://trustdomain/path${c}`;
    if (PATH_CHARS.has(c)) {
      const id = parseSpiffeId(input);
      expect(id.trustDomain).toBe('trustdomain');
      expect(id.path).toBe(`/path${c}`);
    } else {
      expectInvalid(input, VALIDATION_REASON.badPathSegmentChar);
    }
  });

  it('rejects UTF-8 beyond one byte in either part', () => {
    expectInvalid('spiffe://trust🤯domain/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain/pa🤯th', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://trustdomain/é', VALIDATION_REASON.badPathSegmentChar);
  });
});

describe('parseSpiffeId: the spec examples and go-spiffe cases', () => {
  it.each([
    ['spiffe://trust-domain-name/path', 'trust-domain-name', '/path'],
    ['spiffe://staging.example.com/payments/mysql', 'staging.example.com', '/payments/mysql'],
    ['spiffe://staging.example.com/payments/web-fe', 'staging.example.com', '/payments/web-fe'],
    [
      'spiffe://k8s-west.example.com/ns/staging/sa/default',
      'k8s-west.example.com',
      '/ns/staging/sa/default',
    ],
    [
      'spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453',
      'example.com',
      '/9eebccd2-12bf-40a6-b262-65fe0487d453',
    ],
    ['spiffe://trustdomain', 'trustdomain', ''],
    ['spiffe://trustdomain/.path', 'trustdomain', '/.path'],
    ['spiffe://trustdomain/..path', 'trustdomain', '/..path'],
    ['spiffe://trustdomain/...', 'trustdomain', '/...'],
    ['spiffe://td/Upper/Case_ok', 'td', '/Upper/Case_ok'],
  ])('accepts %s', (input, trustDomain, path) => {
    const id = parseSpiffeId(input);
    expect(id.trustDomain).toBe(trustDomain);
    expect(id.path).toBe(path);
    expect(id.toString()).toBe(input);
    expect(String(id)).toBe(input);
    expect(JSON.stringify({ id })).toBe(JSON.stringify({ id: input }));
  });

  it.each([
    ['', VALIDATION_REASON.empty],
    ['s', VALIDATION_REASON.wrongScheme],
    ['spiffe:/', VALIDATION_REASON.wrongScheme],
    ['Spiffe://trustdomain', VALIDATION_REASON.wrongScheme],
    ['SPIFFE://trustdomain/path', VALIDATION_REASON.wrongScheme],
    ['https://trustdomain/path', VALIDATION_REASON.wrongScheme],
    [' spiffe://trustdomain/path', VALIDATION_REASON.wrongScheme],
    ['spiffe://', VALIDATION_REASON.missingTrustDomain],
    ['spiffe:///', VALIDATION_REASON.missingTrustDomain],
    ['spiffe:///path', VALIDATION_REASON.missingTrustDomain],
    ['spiffe://Trustdomain/path', VALIDATION_REASON.badTrustDomainChar],
    ['spiffe://trustdomain/', VALIDATION_REASON.trailingSlash],
    ['spiffe://trustdomain/path/', VALIDATION_REASON.trailingSlash],
    ['spiffe://trustdomain//', VALIDATION_REASON.emptySegment],
    ['spiffe://trustdomain//path', VALIDATION_REASON.emptySegment],
    ['spiffe://trustdomain/a//b', VALIDATION_REASON.emptySegment],
    ['spiffe://trustdomain/.', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/./path', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/path/./other', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/path/..', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/..', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/../path', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/path/../other', VALIDATION_REASON.dotSegment],
    // the first problem met, left to right, is the one reported
    ['spiffe://trustdomain/./a$', VALIDATION_REASON.dotSegment],
    ['spiffe://trustdomain/a$/./', VALIDATION_REASON.badPathSegmentChar],
  ])('rejects %j: %s', (input, reason) => {
    expectInvalid(input, reason);
  });

  it('does not decode percent-encoding', () => {
    expectInvalid('spiffe://%F0%9F%A4%AF/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain/%F0%9F%A4%AF', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://%62%61%64/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain/%62%61%64', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://trustdomain/%2e%2e', VALIDATION_REASON.badPathSegmentChar);
  });

  it('rejects userinfo, port, query and fragment', () => {
    expectInvalid('spiffe://user@trustdomain/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://user:pass@trustdomain/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain:8080/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain:/path', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain?query=1', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain#frag', VALIDATION_REASON.badTrustDomainChar);
    expectInvalid('spiffe://trustdomain/path?query=1', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://trustdomain/path#frag', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://trustdomain/path?', VALIDATION_REASON.badPathSegmentChar);
    expectInvalid('spiffe://[::1]/path', VALIDATION_REASON.badTrustDomainChar);
  });
});

describe('parseSpiffeId: length limits (SPIFFE-ID §2.3)', () => {
  it('accepts a 255-byte trust domain and rejects 256 bytes', () => {
    const td255 = 'a'.repeat(255);
    expect(parseSpiffeId(`spiffe://${td255}/x`).trustDomain).toBe(td255);
    expectInvalid(`spiffe://${td255}a/x`, VALIDATION_REASON.trustDomainTooLong);
  });

  it('accepts a 2048-byte ID and rejects 2049 bytes', () => {
    const prefix = 'spiffe://example.org/';
    const id2048 = prefix + 'p'.repeat(2048 - prefix.length);
    expect(id2048).toHaveLength(2048);
    expect(parseSpiffeId(id2048).toString()).toBe(id2048);
    expectInvalid(`${id2048}q`, VALIDATION_REASON.idTooLong);
    // segments of the same total length are no different
    const segmented = prefix + 'ab/'.repeat(675) + 'abcd';
    expect(segmented).toHaveLength(2050);
    expectInvalid(segmented, VALIDATION_REASON.idTooLong);
  });
});

describe('spiffeIdFromPath', () => {
  it('joins a trust domain and a path', () => {
    expect(spiffeIdFromPath('example.org', '/ns/a/sa/b').toString()).toBe(
      'spiffe://example.org/ns/a/sa/b',
    );
    expect(spiffeIdFromPath('spiffe://example.org', '/x').toString()).toBe(
      'spiffe://example.org/x',
    );
    expect(spiffeIdFromPath('example.org', '').toString()).toBe('spiffe://example.org');
  });

  it.each([
    ['ns/a', VALIDATION_REASON.noLeadingSlash],
    ['/', VALIDATION_REASON.trailingSlash],
    ['/a/', VALIDATION_REASON.trailingSlash],
    ['/a//b', VALIDATION_REASON.emptySegment],
    ['/a/../b', VALIDATION_REASON.dotSegment],
    ['/a?b', VALIDATION_REASON.badPathSegmentChar],
  ])('rejects path %j', (path, reason) => {
    expect(caught(() => spiffeIdFromPath('example.org', path))).toEqual({
      code: 'ERR_SPIFFE_ID_INVALID',
      message: reason,
    });
  });

  it('reports a bad trust domain with the trust-domain code', () => {
    expect(caught(() => spiffeIdFromPath('Example.org', '/a'))).toEqual({
      code: 'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
      message: VALIDATION_REASON.badTrustDomainChar,
    });
    expect(caught(() => spiffeIdFromPath('', '/a'))).toEqual({
      code: 'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
      message: VALIDATION_REASON.missingTrustDomain,
    });
  });

  it('enforces the 2048-byte limit on the joined ID', () => {
    const path = `/${'x'.repeat(2048)}`;
    expect(caught(() => spiffeIdFromPath('example.org', path)).message).toBe(
      VALIDATION_REASON.idTooLong,
    );
  });
});

describe('workloadSpiffeId', () => {
  it('follows the ns/sa convention', () => {
    const id = workloadSpiffeId('hallmark.local', 'payments', 'api');
    expect(id.toString()).toBe('spiffe://hallmark.local/ns/payments/sa/api');
    expect(id.path).toBe('/ns/payments/sa/api');
    expect(workloadSpiffeId('td', 'kube-system', 'my.service-account').path).toBe(
      '/ns/kube-system/sa/my.service-account',
    );
  });

  it.each([
    ['a/b', 'sa', VALIDATION_REASON.badPathSegmentChar],
    ['ns', '', VALIDATION_REASON.emptySegment],
    ['..', 'sa', VALIDATION_REASON.dotSegment],
    ['ns', 'sa?x', VALIDATION_REASON.badPathSegmentChar],
  ])('rejects namespace %j / service account %j', (ns, sa, reason) => {
    expect(caught(() => workloadSpiffeId('td', ns, sa))).toEqual({
      code: 'ERR_SPIFFE_ID_INVALID',
      message: reason,
    });
  });

  it('rejects a bad trust domain', () => {
    expect(caught(() => workloadSpiffeId('td:1', 'a', 'b')).code).toBe(
      'ERR_SPIFFE_TRUST_DOMAIN_INVALID',
    );
  });
});

describe('isMemberOf', () => {
  it('compares trust domains exactly', () => {
    const id = parseSpiffeId('spiffe://example.org/a');
    expect(isMemberOf(id, 'example.org')).toBe(true);
    expect(isMemberOf(parseSpiffeId('spiffe://example.org'), 'example.org')).toBe(true);
    expect(isMemberOf(id, 'example.com')).toBe(false);
    expect(isMemberOf(id, 'sub.example.org')).toBe(false);
    expect(isMemberOf(id, 'Example.org')).toBe(false);
  });
});

describe('parsed IDs are immutable', () => {
  it('cannot be changed after validation', () => {
    const id = parseSpiffeId('spiffe://example.org/a');
    expect(() => {
      (id as { path: string }).path = '/../x';
    }).toThrow(TypeError);
    expect(id.path).toBe('/a');
  });
});
