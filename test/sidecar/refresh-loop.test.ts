import { beforeEach, describe, expect, it } from 'vitest';
import { RefreshLoop } from '../../sidecar/index.js';
import type { PhaseChange, RefreshAttempt } from '../../sidecar/index.js';
import { ManualTimers, MemoryLogger, ScriptedSource, unreachable } from './fakes.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { MemoryCredentialStore } from '../doubles/memory-credential-store.js';

const T0 = Date.UTC(2026, 0, 1);
const S = 1000;

let clock: ManualClock;
let timers: ManualTimers;
let source: ScriptedSource;
let store: MemoryCredentialStore;
let log: MemoryLogger;
let loop: RefreshLoop;
let changes: PhaseChange[];
let attempts: RefreshAttempt[];

beforeEach(() => {
  clock = new ManualClock(T0);
  timers = new ManualTimers(clock);
  source = new ScriptedSource(clock, 3600 * S, 480 * S);
  store = new MemoryCredentialStore();
  log = new MemoryLogger();
  loop = new RefreshLoop({ source, store, clock, timers, log, random: () => 0.5 });
  changes = [];
  attempts = [];
  loop.onPhaseChange((change) => changes.push(change));
  loop.onAttempt((attempt) => attempts.push(attempt));
});

/** Moves the clock to the pending timer and runs the step it would run. */
async function wake(): Promise<number> {
  const timer = timers.earliest();
  if (timer === undefined) throw new Error('no timer armed');
  clock.set(Math.max(clock.now(), timer.due));
  await loop.tick();
  return clock.now() - T0;
}

describe('RefreshLoop', () => {
  it('obtains both credentials at start, then renews each on its own schedule', async () => {
    loop.start();
    expect(loop.phase).toBe('starting');
    expect(await wake()).toBe(0);
    expect(loop.phase).toBe('ready');
    expect(store.svid?.chainPem).toBe('chain 1');
    expect(store.token).toBe('token 1');
    expect(source.lastLoginWith).toBe('chain 1');
    // Token at 75 % of 480 s, SVID at half of 3600 s.
    expect(timers.earliest()?.due).toBe(T0 + 360 * S);
    expect(await wake()).toBe(360 * S);
    expect([store.svidWrites, store.tokenWrites]).toEqual([1, 2]);
    expect(await wake()).toBe(720 * S);
    let at = 0;
    while (store.svidWrites < 2) at = await wake();
    expect(at).toBe(1800 * S);
    expect(store.svid?.chainPem).toBe('chain 2');
    expect(log.phases()).toEqual(['starting', 'ready']);
    expect(timers.pending.size).toBe(1);
  });

  it('keeps the old files while the server is down, backs off, removes the token at expiry and recovers', async () => {
    loop.start();
    await wake();
    source.svidError = unreachable();
    source.tokenError = unreachable();
    const times: number[] = [];
    while (loop.phase !== 'expired') {
      times.push(await wake());
      if (loop.phase === 'degraded') expect(store.token).toBe('token 1');
    }
    // First failure at the token's renewal time (360 s), then 1 s doubling to the 30 s cap,
    // and a wake-up exactly at the token's expiry (480 s).
    expect(times).toEqual([360, 361, 363, 367, 375, 391, 421, 451, 480].map((s) => s * S));
    expect(store.token).toBeUndefined();
    expect(store.tokenRemovals).toBe(1);
    expect(store.svid?.chainPem).toBe('chain 1');
    expect(loop.state.retry?.code).toBe('ERR_SIDECAR_SERVER_UNREACHABLE');
    // Retrying continues at the cap after expiry.
    expect(await wake()).toBe(481 * S);
    expect(loop.phase).toBe('expired');
    source.svidError = undefined;
    source.tokenError = undefined;
    expect(await wake()).toBe(511 * S);
    expect(loop.phase).toBe('ready');
    expect(store.token).toBe(`token ${source.tokenCalls}`);
    expect(log.phases()).toEqual(['starting', 'ready', 'degraded', 'expired', 'recovered']);
    expect(changes.map((c) => [c.from, c.to, c.label, c.code])).toEqual([
      [undefined, 'starting', 'starting', undefined],
      ['starting', 'ready', 'ready', undefined],
      ['ready', 'degraded', 'degraded', 'ERR_SIDECAR_SERVER_UNREACHABLE'],
      ['degraded', 'expired', 'expired', 'ERR_SIDECAR_SERVER_UNREACHABLE'],
      ['expired', 'ready', 'recovered', undefined],
    ]);
    // One line per change, none per retry; and no credential in any line.
    expect(log.lines).toHaveLength(5);
    const text = JSON.stringify(log.lines);
    expect(text).not.toMatch(/token \d|key \d|chain \d/);
    expect(attempts.filter((a) => a.error !== undefined).length).toBeGreaterThan(5);
  });

  it('renews the token with the current SVID while attestation is failing', async () => {
    loop.start();
    await wake();
    source.svidError = unreachable();
    while (loop.state.retry === undefined) await wake();
    expect(clock.now() - T0).toBe(1800 * S);
    expect(loop.phase).toBe('degraded');
    const tokensBefore = store.tokenWrites;
    while (clock.now() - T0 < 2400 * S) await wake();
    expect(store.tokenWrites).toBeGreaterThan(tokensBefore);
    expect(source.lastLoginWith).toBe('chain 1');
    expect(store.svid?.chainPem).toBe('chain 1');
    expect(loop.phase).toBe('degraded');
    // Once the SVID itself expires there is nothing to log in with.
    while (loop.phase !== 'expired') await wake();
    expect(clock.now() - T0).toBe(3600 * S);
    const logins = source.tokenCalls;
    await wake();
    expect(source.tokenCalls).toBe(logins);
  });

  it('reports a failing first attempt once, as degraded, and keeps retrying', async () => {
    source.svidError = unreachable();
    loop.start();
    for (let i = 0; i < 6; i++) await wake();
    expect(source.svidCalls).toBe(6);
    expect(source.tokenCalls).toBe(0);
    expect(log.phases()).toEqual(['starting', 'degraded']);
    source.svidError = undefined;
    await wake();
    expect(loop.phase).toBe('ready');
    expect(log.phases()).toEqual(['starting', 'degraded', 'recovered']);
  });

  it('wraps unexpected errors as ERR_INTERNAL', async () => {
    source.svidError = new TypeError('boom');
    loop.start();
    await wake();
    expect(loop.state.retry?.code).toBe('ERR_INTERNAL');
    expect(attempts[0]?.error?.code).toBe('ERR_INTERNAL');
  });

  it('stops: no timer left, no further step, files untouched', async () => {
    loop.start();
    await wake();
    await loop.stop();
    expect(timers.pending.size).toBe(0);
    clock.advance(3600 * S);
    await loop.tick();
    expect([source.svidCalls, source.tokenCalls, store.tokenRemovals]).toEqual([1, 1, 0]);
    expect(store.token).toBe('token 1');
    expect(timers.pending.size).toBe(0);
  });
});
