// The bound on change transactions: writers of one key queue in memory, all writers share few slots.

/**
 * How many change transactions run at once by default. Each holds one pooled connection (the
 * change and its audit row share it), so with the default pool of 20 this leaves most
 * connections to readers, the audit chain extender and `/readyz`.
 */
export const DEFAULT_WRITE_CONCURRENCY = 4;

/**
 * How many writers of one key may run back to back in one slot before the key goes to the back
 * of the queue for slots again: long enough that a busy key is not delayed behind every other
 * writer between two of its own writes, short enough that busy keys cannot starve the rest.
 */
export const MAX_SLOT_STREAK = 16;

interface KeyQueue {
  /** Writers of this key not yet started, in arrival order. */
  readonly waiting: (() => void)[];
  /** One of its writers holds a slot. */
  running: boolean;
  /** Waiting in the queue for a slot. */
  queued: boolean;
  /** Writers run back to back in the current slot. */
  streak: number;
}

/**
 * Admits change transactions. Writers of the same key (a broker instance; the secret store's
 * batches, which group writes of any paths) run one after another in arrival order, waiting here in memory rather than on a PostgreSQL row
 * lock while holding a pooled connection; at most `limit` writers of any keys run at once, and
 * keys get slots in arrival order. A writer waiting for its key takes no slot; when it is its
 * turn it takes over the slot of the writer before it (up to {@link MAX_SLOT_STREAK} times).
 *
 * This bounds one process. Writers on other replicas still meet on the rows' locks, which
 * PostgreSQL grants in order; each replica holds at most `limit` connections while they wait.
 */
export class WriteGate {
  #active = 0;
  readonly #keys = new Map<string, KeyQueue>();
  /** Keys whose next writer waits for a slot, in the order they started waiting. */
  readonly #ready: string[] = [];

  constructor(readonly limit: number = DEFAULT_WRITE_CONCURRENCY) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer');
  }

  /** Runs `fn` once every earlier writer of `key` has finished and a slot is free. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => this.#enqueue(key, start));
    try {
      return await fn();
    } finally {
      this.#finished(key);
    }
  }

  /** Writers holding a slot now. */
  get active(): number {
    return this.#active;
  }

  #enqueue(key: string, start: () => void): void {
    let queue = this.#keys.get(key);
    if (queue === undefined) {
      queue = { waiting: [], running: false, queued: false, streak: 0 };
      this.#keys.set(key, queue);
    }
    queue.waiting.push(start);
    if (!queue.running && !queue.queued) {
      queue.queued = true;
      this.#ready.push(key);
      this.#dispatch();
    }
  }

  #dispatch(): void {
    while (this.#active < this.limit && this.#ready.length > 0) {
      const queue = this.#keys.get(this.#ready.shift() as string) as KeyQueue;
      queue.queued = false;
      queue.running = true;
      queue.streak = 1;
      this.#active++;
      (queue.waiting.shift() as () => void)();
    }
  }

  #finished(key: string): void {
    const queue = this.#keys.get(key) as KeyQueue;
    if (queue.waiting.length > 0 && queue.streak < MAX_SLOT_STREAK) {
      queue.streak++;
      (queue.waiting.shift() as () => void)();
      return;
    }
    queue.running = false;
    this.#active--;
    if (queue.waiting.length > 0) {
      queue.queued = true;
      this.#ready.push(key);
    } else {
      this.#keys.delete(key);
    }
    this.#dispatch();
  }
}
