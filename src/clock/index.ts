// The clock: the only place that reads the time, so every time-dependent rule can be tested.
// (One small module, so the folder's public surface is the module itself.)

/** A source of the current time in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
