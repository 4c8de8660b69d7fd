import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF,
  INITIAL_REFRESH_STATE,
  MIN_RENEWAL_DELAY_MS,
  backoffDelay,
  credentialsFresh,
  lifetimeOf,
  phaseOf,
  planRefresh,
  withFailure,
  withSuccess,
  withSvid,
  withToken,
  withTokenRemoved,
} from '../../sidecar/index.js';
import type { RefreshState } from '../../sidecar/index.js';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const low = (): number => 0;
const mid = (): number => 0.5;
const high = (): number => 0.999_999;

/** A state with an SVID (1 h) and a token (8 min) obtained at T0, renewal times without jitter. */
function freshState(): RefreshState {
  const svid = lifetimeOf(T0, T0 + 3600 * SECOND, 0.5, mid);
  const token = lifetimeOf(T0, T0 + 480 * SECOND, 0.75, mid);
  return withSuccess(withToken(withSvid(INITIAL_REFRESH_STATE, svid), token));
}

describe('lifetimeOf', () => {
  it('renews the SVID at half its lifetime and the token at 75 % without jitter', () => {
    expect(lifetimeOf(T0, T0 + 3600 * SECOND, 0.5, mid).renewAt).toBe(T0 + 1800 * SECOND);
    expect(lifetimeOf(T0, T0 + 480 * SECOND, 0.75, mid).renewAt).toBe(T0 + 360 * SECOND);
    expect(lifetimeOf(T0, T0 + 20 * SECOND, 0.75, mid).renewAt).toBe(T0 + 15 * SECOND);
  });

  it('keeps jitter within ±10 % of the renewal offset', () => {
    const svidLow = lifetimeOf(T0, T0 + 3600 * SECOND, 0.5, low).renewAt - T0;
    const svidHigh = lifetimeOf(T0, T0 + 3600 * SECOND, 0.5, high).renewAt - T0;
    expect(svidLow).toBe(1620 * SECOND);
    expect(svidHigh).toBeLessThanOrEqual(1980 * SECOND);
    expect(svidHigh).toBeGreaterThan(1979 * SECOND);
    for (let i = 0; i < 1000; i++) {
      const r = Math.random();
      const offset = lifetimeOf(T0, T0 + 480 * SECOND, 0.75, () => r).renewAt - T0;
      expect(offset).toBeGreaterThanOrEqual(324 * SECOND);
      expect(offset).toBeLessThanOrEqual(396 * SECOND);
    }
  });

  it('never renews sooner than the floor nor after expiry', () => {
    expect(lifetimeOf(T0, T0 + 200, 0.5, low).renewAt).toBe(T0 + 200);
    expect(lifetimeOf(T0, T0 + 1500, 0.5, low).renewAt).toBe(T0 + MIN_RENEWAL_DELAY_MS);
    expect(lifetimeOf(T0, T0 - 5000, 0.5, high).renewAt).toBe(T0 - 5000);
  });
});

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, mid))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('jitters each delay by at most 10 % and never exceeds the cap', () => {
    for (let failures = 1; failures <= 12; failures++) {
      const base = Math.min(1000 * 2 ** (failures - 1), 30_000);
      for (const random of [low, mid, high, Math.random]) {
        const delay = backoffDelay(failures, random);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
        expect(delay).toBeLessThanOrEqual(Math.min(base * 1.1, DEFAULT_BACKOFF.maxMs));
      }
    }
    expect(backoffDelay(1, low)).toBe(900);
    expect(backoffDelay(1, high)).toBe(1100);
    expect(backoffDelay(9, high)).toBe(30_000);
  });
});

describe('planRefresh', () => {
  it('obtains both credentials at once when there are none', () => {
    const plan = planRefresh(INITIAL_REFRESH_STATE, T0);
    expect(plan).toEqual({ renewSvid: true, renewToken: true, removeToken: false, wakeAt: T0 });
    expect(phaseOf(INITIAL_REFRESH_STATE, T0)).toBe('starting');
    expect(credentialsFresh(INITIAL_REFRESH_STATE, T0)).toBe(false);
  });

  it('sleeps until the earliest renewal and renews each credential on its own schedule', () => {
    const state = freshState();
    expect(phaseOf(state, T0)).toBe('ready');
    expect(credentialsFresh(state, T0)).toBe(true);
    const first = planRefresh(state, T0 + SECOND);
    expect(first).toMatchObject({ renewSvid: false, renewToken: false, removeToken: false });
    expect(first.wakeAt).toBe(T0 + 360 * SECOND);
    expect(planRefresh(state, T0 + 360 * SECOND)).toMatchObject({
      renewSvid: false,
      renewToken: true,
    });
    const renewed = withToken(state, lifetimeOf(T0 + 360 * SECOND, T0 + 840 * SECOND, 0.75, mid));
    expect(planRefresh(renewed, T0 + 361 * SECOND).wakeAt).toBe(T0 + 720 * SECOND);
    expect(planRefresh(state, T0 + 1800 * SECOND)).toMatchObject({
      renewSvid: true,
      renewToken: true,
    });
  });

  it('backs off after a failure but still wakes at expiry', () => {
    const now = T0 + 360 * SECOND;
    const failed = withFailure(freshState(), now, 'ERR_SIDECAR_SERVER_UNREACHABLE', mid);
    expect(failed.retry).toEqual({
      failures: 1,
      code: 'ERR_SIDECAR_SERVER_UNREACHABLE',
      retryAt: now + 1000,
    });
    expect(phaseOf(failed, now)).toBe('degraded');
    // Files are still valid while refresh fails: healthy.
    expect(credentialsFresh(failed, now)).toBe(true);
    expect(planRefresh(failed, now + 500)).toEqual({
      renewSvid: false,
      renewToken: false,
      removeToken: false,
      wakeAt: now + 1000,
    });
    expect(planRefresh(failed, now + 1000)).toMatchObject({ renewToken: true });

    let state = failed;
    for (let i = 0; i < 10; i++)
      state = withFailure(state, now, 'ERR_SIDECAR_SERVER_UNREACHABLE', mid);
    expect(state.retry?.failures).toBe(11);
    expect(state.retry?.retryAt).toBe(now + 30_000);
    // The capped retry (T0 + 390 s) comes before the token's expiry (T0 + 480 s)...
    expect(planRefresh(state, now + 1).wakeAt).toBe(now + 30_000);
    // ...but when the retry would come after it, the sidecar wakes at the expiry.
    const late = withFailure(state, T0 + 470 * SECOND, 'ERR_SIDECAR_SERVER_UNREACHABLE', mid);
    expect(planRefresh(late, T0 + 471 * SECOND).wakeAt).toBe(T0 + 480 * SECOND);
  });

  it('removes the token at expiry while refresh fails, and reports expired and unhealthy', () => {
    let failing = freshState();
    // Six failures in a row: the next retry is 30 s away, past the token's expiry.
    for (let i = 0; i < 6; i++)
      failing = withFailure(failing, T0 + 470 * SECOND, 'ERR_AUTHN_POD_GONE', mid);
    expect(failing.retry?.retryAt).toBe(T0 + 500 * SECOND);
    const atExpiry = T0 + 480 * SECOND;
    const plan = planRefresh(failing, atExpiry);
    expect(plan).toMatchObject({ removeToken: true, renewSvid: false, renewToken: false });
    const removed = withTokenRemoved(failing);
    expect(planRefresh(removed, atExpiry).removeToken).toBe(false);
    expect(phaseOf(removed, atExpiry)).toBe('expired');
    expect(credentialsFresh(removed, atExpiry)).toBe(false);
    // Retrying continues (at the cap) so the sidecar recovers when the cause goes away.
    expect(planRefresh(removed, atExpiry + 1).wakeAt).toBe(failing.retry?.retryAt);
    expect(planRefresh(removed, failing.retry!.retryAt)).toMatchObject({ renewToken: true });
    const recovered = withSuccess(
      withToken(removed, lifetimeOf(atExpiry + 2000, atExpiry + 482 * SECOND, 0.75, mid)),
    );
    expect(recovered.accessTokenRemoved).toBe(false);
    expect(phaseOf(recovered, atExpiry + 2000)).toBe('ready');
    expect(credentialsFresh(recovered, atExpiry + 2000)).toBe(true);
  });

  it('reports an expired SVID as expired even when the token is still valid', () => {
    const svid = lifetimeOf(T0, T0 + 40 * SECOND, 0.5, mid);
    const token = lifetimeOf(T0, T0 + 480 * SECOND, 0.75, mid);
    const state = withFailure(
      withToken(withSvid(INITIAL_REFRESH_STATE, svid), token),
      T0 + 35 * SECOND,
      'ERR_SIDECAR_SERVER_UNREACHABLE',
      mid,
    );
    expect(planRefresh(state, T0 + 35_500).wakeAt).toBe(T0 + 36 * SECOND);
    expect(phaseOf(state, T0 + 39 * SECOND)).toBe('degraded');
    expect(phaseOf(state, T0 + 40 * SECOND)).toBe('expired');
    expect(credentialsFresh(state, T0 + 40 * SECOND)).toBe(false);
    expect(planRefresh(state, T0 + 40 * SECOND).removeToken).toBe(false);
  });

  it('reports degraded when the very first attempt fails', () => {
    const state = withFailure(INITIAL_REFRESH_STATE, T0, 'ERR_POLICY_NO_REGISTRATION', mid);
    expect(phaseOf(state, T0)).toBe('degraded');
    expect(planRefresh(state, T0)).toEqual({
      renewSvid: false,
      renewToken: false,
      removeToken: false,
      wakeAt: T0 + 1000,
    });
  });
});
