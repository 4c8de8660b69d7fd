// Shared helpers for the policy tests: compile options, fixtures, and caught policy problems.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { isHallmarkError } from '../../src/errors/index.js';
import {
  compilePolicy,
  isPolicyInvalidError,
  type CompilePolicyOptions,
  type CompiledPolicy,
  type PolicyProblem,
} from '../../src/policy/index.js';

/** The options most tests compile with: the default trust domain and a 24 h maximum TTL. */
export const OPTIONS: CompilePolicyOptions = {
  trustDomain: 'hallmark.local',
  maxTtlSeconds: 86_400,
};

/** A fixture from test/fixtures/policy. */
export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/policy/${name}`, import.meta.url), 'utf8');
}

/** Compiles `text` with {@link OPTIONS} (or `options`). */
export function compile(text: string, options: CompilePolicyOptions = OPTIONS): CompiledPolicy {
  return compilePolicy(text, options);
}

/** Runs `fn`, expecting ERR_POLICY_INVALID, and returns its problem list. */
export function problemsOf(fn: () => unknown): readonly PolicyProblem[] {
  try {
    fn();
  } catch (err) {
    expect(isHallmarkError(err, 'ERR_POLICY_INVALID')).toBe(true);
    if (isPolicyInvalidError(err)) return err.problems;
  }
  expect.fail('expected ERR_POLICY_INVALID');
}

/** The problem paths of a rejected document, in order. */
export function problemPaths(text: string, options: CompilePolicyOptions = OPTIONS): string[] {
  return problemsOf(() => compile(text, options)).map((p) => p.path);
}
