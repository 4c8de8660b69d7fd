// Bounded polling for a condition (never a timed assertion): generous limit, short interval.

/** Resolves once `condition()` is truthy; rejects after `limitMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  condition: () => T | Promise<T>,
  limitMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
