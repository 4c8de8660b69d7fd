// The deadline of one Kubernetes call: settles the caller when it passes, and aborts the request
// whenever the transport can, even if that is only after the deadline passed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallDeadline } from '../../src/attest/call-deadline.js';
import { DeadlineExceeded, withDeadline } from '../../src/attest/call-deadline.js';

describe('withDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects with DeadlineExceeded when the call never settles, and aborts the request', async () => {
    const aborted: Error[] = [];
    const result = withDeadline(5_000, (deadline) => {
      deadline.onAbort((reason) => aborted.push(reason));
      return new Promise<never>(() => undefined);
    }).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(aborted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const err = await result;
    expect(err).toBeInstanceOf(DeadlineExceeded);
    expect(aborted).toEqual([err]);
  });

  it('aborts at once a request the transport takes up only after the deadline passed', async () => {
    let deadline: CallDeadline | undefined;
    const result = withDeadline(100, (d) => {
      deadline = d;
      return new Promise<never>(() => undefined);
    }).catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(100);
    expect(await result).toBeInstanceOf(DeadlineExceeded);
    const abort = vi.fn();
    deadline?.onAbort(abort);
    expect(abort).toHaveBeenCalledWith(deadline?.passed);
  });

  it('passes the answer or the error through, and neither aborts nor fires later', async () => {
    const abort = vi.fn();
    await expect(
      withDeadline(100, (d) => {
        d.onAbort(abort);
        return Promise.resolve('answer');
      }),
    ).resolves.toBe('answer');
    await expect(withDeadline(100, () => Promise.reject(new Error('refused')))).rejects.toThrow(
      'refused',
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(abort).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
