// A bounded load loop: N workers calling one step, stopped by count, by time or by hand.

/** Limits of one load run; whichever is reached first ends it. */
export interface LoadLimits {
  workers: number;
  /** Calls across all workers. */
  maxCalls: number;
  maxMs: number;
}

/** A running load: `stop()` ends it after the calls in flight; `done` has every result. */
export interface LoadRun<T> {
  readonly results: readonly T[];
  stop(): void;
  readonly done: Promise<T[]>;
}

/**
 * Runs `step(worker, call)` in `limits.workers` concurrent loops. `step` must not throw: it
 * records failures in its result, so one bad answer never ends the run early. The results
 * array fills as calls finish, so a test can watch it while the load runs.
 */
export function startLoad<T>(
  limits: LoadLimits,
  step: (worker: number, call: number) => Promise<T>,
): LoadRun<T> {
  const results: T[] = [];
  const deadline = Date.now() + limits.maxMs;
  let started = 0;
  let stopped = false;
  const worker = async (id: number): Promise<void> => {
    while (!stopped && started < limits.maxCalls && Date.now() < deadline) {
      const call = started++;
      results.push(await step(id, call));
    }
  };
  const done = Promise.all(Array.from({ length: limits.workers }, (_, id) => worker(id))).then(
    () => results,
  );
  return {
    results,
    stop: () => {
      stopped = true;
    },
    done,
  };
}

/** Resolves once `condition()` holds; rejects after `limitMs` naming `what` (bounded polling). */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  limitMs: number,
  intervalMs = 20,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - started;
    if (performance.now() - started > limitMs)
      throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
