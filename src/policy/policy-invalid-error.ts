// The one error a rejected policy document raises: ERR_POLICY_INVALID with every problem found.
import { HallmarkError } from '../errors/index.js';
import type { PolicyProblem } from './policy-problem.js';

/**
 * A policy document (or a list of extra grants) was rejected. `problems` lists every problem
 * with its location; it is safe to return to the admin who sent the document (the HTTP layer
 * sends it as `error.details`).
 */
export class PolicyInvalidError extends HallmarkError {
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[]) {
    const first = problems[0];
    super('ERR_POLICY_INVALID', {
      detail:
        first === undefined
          ? 'policy rejected'
          : `${problems.length} problem(s); first: ${first.path || '(document)'}: ${first.message}`,
    });
    this.name = 'PolicyInvalidError';
    this.problems = problems;
  }
}

/** True when `err` is a {@link PolicyInvalidError}. */
export function isPolicyInvalidError(err: unknown): err is PolicyInvalidError {
  return err instanceof PolicyInvalidError;
}
