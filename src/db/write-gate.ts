// The bound on change transactions: writers of one key queue in memory, all writers share few slots.

/**
 * How many change transactions run at once by default. Each holds one pooled connection (the
 * change and its audit row share it), so with the default pool of 20 this leaves most
 * connections to readers, the audit chain extender and `/readyz`.
 */
export const DEFAULT_WRITE_CONCURRENCY = 4;

/**
 * Admits change transactions. Writers of the same key (a secret path, a broker instance) run
 * one after another in arrival order, waiting here in memory rather than on a PostgreSQL row
 * lock while holding a pooled connection; at most `limit` writers of any keys run at once, the
 * others wait in arrival order too. A writer waiting for its key takes no slot.
 *
 * This bounds one process. Writers on other replicas still meet on the rows' locks, which
 * PostgreSQL grants in order; each replica holds at most `limit` connections while they wait.
 */
export class WriteGate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  /** The last writer queued per key; a key is forgotten when its queue empties. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(readonly limit: number = DEFAULT_WRITE_CONCURRENCY) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
  }

  /** Runs `fn` once every earlier writer of `key` has finished and a slot is free. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let done = (): void => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const mine = previous.then(() => finished);
    this.#tails.set(key, mine);
    try {
      await previous;
      return await this.#withSlot(fn);
    } finally {
      done();
      if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }

  /** Writers holding a slot now. */
  get active(): number {
    return this.#active;
  }

  async #withSlot<T>(fn: () => Promise<T>): Promise<T> {
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
