// Path and segment validation on their own, as the policy templates will use them.
import { describe, expect, it } from 'vitest';
import { isHallmarkError } from '../../src/errors/index.js';
import { VALIDATION_REASON, validatePath, validatePathSegment } from '../../src/spiffe/index.js';

function reasonOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (isHallmarkError(err, 'ERR_SPIFFE_ID_INVALID')) return err.message;
    throw err;
  }
}

describe('validatePath', () => {
  it.each([
    ['', undefined],
    ['/a', undefined],
    ['/a/b.c/D-E_f', undefined],
    ['a', VALIDATION_REASON.noLeadingSlash],
    ['/', VALIDATION_REASON.trailingSlash],
    ['//', VALIDATION_REASON.emptySegment],
    ['/a/.', VALIDATION_REASON.dotSegment],
    ['/a/..', VALIDATION_REASON.dotSegment],
    ['/a b', VALIDATION_REASON.badPathSegmentChar],
  ])('%j → %s', (path, reason) => {
    expect(reasonOf(() => validatePath(path))).toBe(reason);
  });
});

describe('validatePathSegment', () => {
  it.each([
    ['a', undefined],
    ['.a', undefined],
    ['...', undefined],
    ['', VALIDATION_REASON.emptySegment],
    ['.', VALIDATION_REASON.dotSegment],
    ['..', VALIDATION_REASON.dotSegment],
    ['/', VALIDATION_REASON.badPathSegmentChar],
    ['/foo', VALIDATION_REASON.badPathSegmentChar],
    ['$', VALIDATION_REASON.badPathSegmentChar],
  ])('%j → %s', (segment, reason) => {
    expect(reasonOf(() => validatePathSegment(segment))).toBe(reason);
  });
});
