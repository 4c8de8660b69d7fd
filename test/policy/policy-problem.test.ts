// Problem paths: built and taken apart unambiguously; the error carries the list.
import { describe, expect, it } from 'vitest';
import { HallmarkError } from '../../src/errors/index.js';
import { PolicyInvalidError } from '../../src/policy/index.js';
import { ProblemList, childPath, parentPath } from '../../src/policy/policy-problem.js';

describe('property paths', () => {
  it.each<[string, string | number, string]>([
    ['', 'workloads', 'workloads'],
    ['workloads', 2, 'workloads[2]'],
    ['workloads[2]', 'spiffeId', 'workloads[2].spiffeId'],
    ['groups', 'payments-readers', 'groups.payments-readers'],
    [
      'workloads[0].labels',
      'app.kubernetes.io/name',
      'workloads[0].labels["app.kubernetes.io/name"]',
    ],
    ['groups', 'key:x', 'groups["key:x"]'],
    ['groups', '9lives', 'groups["9lives"]'],
    ['', 'say "hi"', '["say \\"hi\\""]'],
  ])('%j + %j = %s, and back', (parent, key, expected) => {
    const path = childPath(parent, key);
    expect(path).toBe(expected);
    expect(parentPath(path)).toBe(parent);
  });

  it('has no parent at the root', () => {
    expect(parentPath('')).toBeUndefined();
  });
});

describe('ProblemList', () => {
  it('sorts by source position and falls back to the nearest located parent', () => {
    const positions = new Map([
      ['a', { line: 5, column: 1 }],
      ['b', { line: 2, column: 3 }],
    ]);
    const list = new ProblemList((path) => positions.get(path));
    list.add('a.missing', 'is required');
    list.add('b', 'is wrong');
    list.add('nowhere', 'has no position');
    expect(list.toArray()).toEqual([
      { path: 'b', message: 'is wrong', line: 2, column: 3 },
      { path: 'a.missing', message: 'is required', line: 5, column: 1 },
      { path: 'nowhere', message: 'has no position' },
    ]);
  });
});

describe('PolicyInvalidError', () => {
  it('is a HallmarkError with ERR_POLICY_INVALID and the problem list', () => {
    const problems = [{ path: 'grants[0].to', message: 'unknown group "x"' }];
    const error = new PolicyInvalidError(problems);
    expect(error).toBeInstanceOf(HallmarkError);
    expect(error.code).toBe('ERR_POLICY_INVALID');
    expect(error.problems).toEqual(problems);
  });
});
