// Bounded polling for a condition (never a timed assertion): generous limit, short interval.

/**
 * Resolves once `condition()` is truthy; rejects after `limitMs` naming `what` and, when
 * given, what `explain()` says about the state at that moment.
 */
export async function waitFor<T>(
  what: string,
  condition: () => T | Promise<T>,
  limitMs = 30_000,
  explain?: () => unknown,
): Promise<T> {
  const intervalMs = 50;
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) {
      const state = explain === undefined ? '' : `; state: ${JSON.stringify(explain())}`;
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
