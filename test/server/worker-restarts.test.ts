// The restart rule of the cluster's workers: doubling waits, a cap, giving up, and forgiving a long run.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../doubles/manual-clock.js';
import { DEFAULT_RESTART_POLICY, WorkerRestarts } from '../../src/server/index.js';

const POLICY = { firstDelayMs: 100, maxDelayMs: 500, maxRestarts: 4, stableMs: 10_000 };

describe('worker restarts', () => {
  it('waits twice as long after each quick death, up to the cap, then gives up', () => {
    const clock = new ManualClock();
    const restarts = new WorkerRestarts(clock, POLICY);
    const decisions = Array.from({ length: 5 }, () => {
      const startedAt = clock.now();
      clock.advance(1_000);
      return restarts.exited(1, startedAt);
    });
    expect(decisions).toEqual([
      { kind: 'restart', delayMs: 100, attempt: 1 },
      { kind: 'restart', delayMs: 200, attempt: 2 },
      { kind: 'restart', delayMs: 400, attempt: 3 },
      { kind: 'restart', delayMs: 500, attempt: 4 },
      { kind: 'give-up', restarts: 4 },
    ]);
  });

  it('starts counting again after a worker ran for stableMs', () => {
    const clock = new ManualClock();
    const restarts = new WorkerRestarts(clock, POLICY);
    for (let i = 0; i < 3; i++) restarts.exited(1, clock.now());
    const startedAt = clock.now();
    clock.advance(POLICY.stableMs);
    expect(restarts.exited(1, startedAt)).toEqual({ kind: 'restart', delayMs: 100, attempt: 1 });
  });

  it('counts each slot on its own', () => {
    const clock = new ManualClock();
    const restarts = new WorkerRestarts(clock, POLICY);
    for (let i = 0; i < 4; i++) restarts.exited(1, clock.now());
    expect(restarts.exited(1, clock.now()).kind).toBe('give-up');
    expect(restarts.exited(2, clock.now())).toEqual({ kind: 'restart', delayMs: 100, attempt: 1 });
  });

  it('by default restarts within a quarter second and gives up after five quick deaths', () => {
    const clock = new ManualClock();
    const restarts = new WorkerRestarts(clock);
    const kinds = Array.from({ length: 6 }, () => restarts.exited(1, clock.now()));
    expect(kinds[0]).toEqual({ kind: 'restart', delayMs: 250, attempt: 1 });
    expect(kinds.map((d) => d.kind)).toEqual([...Array(5).fill('restart'), 'give-up']);
    expect(DEFAULT_RESTART_POLICY.maxRestarts).toBe(5);
  });
});
