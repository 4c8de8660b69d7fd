// A deadline for one Kubernetes call: abort the request and stop waiting when it passes.

/** The error a call rejects with when its deadline passed. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * One call's deadline: a plain timer, and the abort function of the request once the transport
 * has one. An AbortController and its listeners cost about fifteen times what the timer does,
 * twice per attestation, and the transport can abort without them.
 */
export class CallDeadline {
  #abort: ((reason: Error) => void) | undefined;
  #passed: DeadlineExceeded | undefined;
  readonly #timer: NodeJS.Timeout;

  /** Starts the timer; `onPassed` is called once if it fires before {@link end}. */
  constructor(
    readonly timeoutMs: number,
    onPassed: (err: DeadlineExceeded) => void,
  ) {
    this.#timer = setTimeout(() => {
      const err = new DeadlineExceeded(timeoutMs);
      this.#passed = err;
      onPassed(err);
      this.#abort?.(err);
    }, timeoutMs);
  }

  /** The error, once the deadline passed. */
  get passed(): DeadlineExceeded | undefined {
    return this.#passed;
  }

  /**
   * The transport's way to abort the request, once it has one; called at once when the deadline
   * passed already (a request that waited in the pool's queue past it is never sent on).
   */
  onAbort(abort: (reason: Error) => void): void {
    if (this.#passed !== undefined) abort(this.#passed);
    else this.#abort = abort;
  }

  /** The call settled: stop the timer. */
  end(): void {
    clearTimeout(this.#timer);
    this.#abort = undefined;
  }
}

/**
 * Runs `call` with a {@link CallDeadline}, and settles no later than `timeoutMs` even if the call
 * ignores the deadline (a hung DNS lookup, an auth plugin): a slow Kubernetes API must never
 * hang the caller.
 */
export function withDeadline<T>(
  timeoutMs: number,
  call: (deadline: CallDeadline) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = new CallDeadline(timeoutMs, reject);
    call(deadline).then(
      (value) => {
        deadline.end();
        resolve(value);
      },
      (err: unknown) => {
        deadline.end();
        reject(err);
      },
    );
  });
}
