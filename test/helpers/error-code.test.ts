// The assertion helpers themselves: a refusal is seen, and its absence fails the test.
import { describe, expect, it } from 'vitest';
import { HallmarkError } from '../../src/errors/index.js';
import { NO_ERROR, codeOf, errorOf } from './error-code.js';

const refuse = (): never => {
  throw new HallmarkError('ERR_SECRET_BAD_PATH', { detail: 'x' });
};

describe('codeOf', () => {
  it('gives the code a call throws or a promise rejects with', async () => {
    expect(codeOf(refuse)).toBe('ERR_SECRET_BAD_PATH');
    expect(await codeOf(Promise.resolve().then(refuse))).toBe('ERR_SECRET_BAD_PATH');
  });

  it('answers NO_ERROR when nothing is refused, so a code assertion fails', async () => {
    expect(codeOf(() => 1)).toBe(NO_ERROR);
    expect(await codeOf(Promise.resolve(1))).toBe(NO_ERROR);
    expect(NO_ERROR).not.toMatch(/^ERR_/);
  });

  it('lets an error without a code fail the test as it is', async () => {
    const bug = new RangeError('a bug, not a refusal');
    expect(() =>
      codeOf(() => {
        throw bug;
      }),
    ).toThrow(bug);
    await expect(codeOf(Promise.reject(bug))).rejects.toBe(bug);
  });

  it('refuses a call that returns a promise, whose refusal it could not see', async () => {
    const pending = Promise.resolve().then(refuse);
    expect(() => codeOf(() => pending)).toThrow(TypeError);
    await pending.catch(() => undefined);
  });
});

describe('errorOf', () => {
  it('gives the thrown error, and fails when there is none', () => {
    expect((errorOf(refuse) as HallmarkError).code).toBe('ERR_SECRET_BAD_PATH');
    expect(() => errorOf(() => 1)).toThrow('nothing was thrown');
  });
});
