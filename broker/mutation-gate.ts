// A bound on concurrent broker changes, so they cannot exhaust the database pool between them.

/**
 * A FIFO semaphore. A broker change holds one pooled connection for its transaction while
 * the secret store and the audit log take another; with at most `limit` changes in flight
 * they use at most 2 × `limit` connections, and the pool can never be drained by changes
 * each waiting for a second connection.
 */
export class MutationGate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
  }

  /** Runs `fn` once a slot is free; slots are handed over in arrival order. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.limit) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#active--;
    }
  }
}
