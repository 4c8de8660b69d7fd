// What a call fails with (its error code, or the error itself): how tests assert on refusals.
import { expect } from 'vitest';

/** What {@link codeOf} answers when the call returned, or the promise resolved, without an error. */
export const NO_ERROR = 'no error';

/** The code of an error; an error without one is a bug, not a refusal, so it fails the test as is. */
function codeFrom(err: unknown): string {
  const code =
    typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') throw err;
  return code;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The `code` of the error `call` throws, or of the error `promise` rejects with; {@link NO_ERROR}
 * when there is none, so `expect(codeOf(...)).toBe('ERR_...')` fails when nothing is refused.
 * A call that returns a promise is refused (pass the promise itself), so an async refusal can
 * never pass unseen as a synchronous success.
 */
export function codeOf(call: () => unknown): string;
export function codeOf(promise: PromiseLike<unknown>): Promise<string>;
export function codeOf(subject: (() => unknown) | PromiseLike<unknown>): string | Promise<string> {
  if (typeof subject !== 'function') return Promise.resolve(subject).then(() => NO_ERROR, codeFrom);
  let result: unknown;
  try {
    result = subject();
  } catch (err) {
    return codeFrom(err);
  }
  if (isThenable(result)) {
    throw new TypeError('codeOf(() => promise): pass the promise itself, and await the code');
  }
  return NO_ERROR;
}

/**
 * The error `call` throws, for assertions beyond its code (what its detail names, what it must
 * not echo). Fails the test when `call` throws nothing, so such assertions never sit unreached
 * in a `catch`.
 */
export function errorOf(call: () => unknown): unknown {
  let result: unknown;
  try {
    result = call();
  } catch (err) {
    return err;
  }
  if (isThenable(result)) throw new TypeError('errorOf(() => promise): await a rejection instead');
  return expect.fail('expected an error, and nothing was thrown');
}
