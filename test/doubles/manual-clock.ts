// A clock tests move by hand, so every time-dependent rule can be tested without waiting.
import type { Clock } from '../../src/clock/index.js';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  private ms: number;
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.ms = typeof start === 'number' ? start : start.getTime();
  }
  now(): number {
    return this.ms;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}
