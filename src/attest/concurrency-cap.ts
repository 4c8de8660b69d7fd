// A cap on calls in flight that refuses instead of queueing, so a flood holds no memory.

/**
 * Counts calls in flight up to `limit`. Beyond it {@link tryEnter} says no at once: a queue
 * would only hold a flood's sockets and bodies while the callee is already saturated.
 */
export class ConcurrencyCap {
  #inFlight = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be at least 1');
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot; false when all `limit` are taken. Pair every true with one {@link leave}. */
  tryEnter(): boolean {
    if (this.#inFlight >= this.limit) return false;
    this.#inFlight += 1;
    return true;
  }

  /** Gives a slot back. */
  leave(): void {
    if (this.#inFlight > 0) this.#inFlight -= 1;
  }
}
