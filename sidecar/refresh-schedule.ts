// The refresh schedule: when to renew the SVID and the access token, as pure functions of
// the saved state and "now" (no clock, no timers, no I/O).
import type { ErrorCode } from '../src/errors/index.js';
import { DEFAULT_BACKOFF, backoffDelay, withJitter } from './backoff.js';
import type { BackoffPolicy, RandomSource } from './backoff.js';

/** Fraction of its lifetime after which the SVID is renewed (DESIGN: half-life). */
export const SVID_RENEWAL_FRACTION = 0.5;
/** Fraction of its lifetime after which the access token is renewed (Conjur's 6 of 8 minutes). */
export const TOKEN_RENEWAL_FRACTION = 0.75;
/** Relative jitter on renewal times, so pods started together do not renew together. */
export const RENEWAL_JITTER = 0.1;
/** Floor between obtaining a credential and renewing it, so a tiny lifetime cannot spin. */
export const MIN_RENEWAL_DELAY_MS = 1000;

/** When a credential was obtained, when it expires, and when it is to be renewed (ms). */
export interface CredentialLifetime {
  readonly obtainedAt: number;
  readonly expiresAt: number;
  readonly renewAt: number;
}

/** The current run of consecutive failures. */
export interface RetryState {
  readonly failures: number;
  readonly retryAt: number;
  /** Code of the latest failure. */
  readonly code: ErrorCode;
}

/** Everything the schedule depends on; replaced (never mutated) after every step. */
export interface RefreshState {
  readonly svid: CredentialLifetime | undefined;
  readonly token: CredentialLifetime | undefined;
  /** True once `access-token` was removed because the token expired. */
  readonly accessTokenRemoved: boolean;
  readonly retry: RetryState | undefined;
}

/** What is due now, and when to look again. */
export interface RefreshPlan {
  readonly renewSvid: boolean;
  readonly renewToken: boolean;
  /** The token has expired while its file is still on disk: remove it so apps fail fast. */
  readonly removeToken: boolean;
  /** Next time the plan can change; equals `now` when something is due. */
  readonly wakeAt: number;
}

/**
 * Where the sidecar stands: `starting` (no credentials yet), `ready`, `degraded` (refresh
 * failing, credentials still valid or none yet), `expired` (a credential expired while
 * refresh was failing).
 */
export type SidecarPhase = 'starting' | 'ready' | 'degraded' | 'expired';

/** The state before anything has been obtained. */
export const INITIAL_REFRESH_STATE: RefreshState = Object.freeze({
  svid: undefined,
  token: undefined,
  accessTokenRemoved: false,
  retry: undefined,
});

/**
 * The lifetime record of a credential obtained at `obtainedAt` and valid until `expiresAt`,
 * with its renewal time computed now, before its files are written (as csi-driver-spiffe
 * does): `obtainedAt + fraction · lifetime`, ±{@link RENEWAL_JITTER}, at least
 * {@link MIN_RENEWAL_DELAY_MS} later and never after expiry.
 */
export function lifetimeOf(
  obtainedAt: number,
  expiresAt: number,
  fraction: number,
  random: RandomSource,
): CredentialLifetime {
  const lifetime = Math.max(expiresAt - obtainedAt, 0);
  const offset = withJitter(lifetime * fraction, RENEWAL_JITTER, random);
  const renewAt = Math.min(
    Math.max(obtainedAt + Math.round(offset), obtainedAt + MIN_RENEWAL_DELAY_MS),
    expiresAt,
  );
  return { obtainedAt, expiresAt, renewAt };
}

function earliest(times: readonly (number | undefined)[]): number {
  return Math.min(...times.filter((t): t is number => t !== undefined));
}

/** What to do at `now`. */
export function planRefresh(state: RefreshState, now: number): RefreshPlan {
  const { svid, token, retry } = state;
  const backingOff = retry !== undefined && now < retry.retryAt;
  const svidDue = svid === undefined || now >= svid.renewAt;
  const tokenDue = token === undefined || state.accessTokenRemoved || now >= token.renewAt;
  const removeToken = token !== undefined && !state.accessTokenRemoved && now >= token.expiresAt;
  const renewSvid = !backingOff && svidDue;
  const renewToken = !backingOff && tokenDue;
  if (renewSvid || renewToken || removeToken) {
    return { renewSvid, renewToken, removeToken, wakeAt: now };
  }
  // Expiry instants are wake-ups too, even while backing off: the token must disappear on
  // time and the phase change be reported when it happens, not at the next retry.
  const expiries = [
    svid !== undefined && svid.expiresAt > now ? svid.expiresAt : undefined,
    token !== undefined && !state.accessTokenRemoved && token.expiresAt > now
      ? token.expiresAt
      : undefined,
  ];
  const renewals = backingOff ? [retry.retryAt] : [svid?.renewAt, token?.renewAt];
  return { renewSvid, renewToken, removeToken, wakeAt: earliest([...renewals, ...expiries]) };
}

/** The phase at `now`. */
export function phaseOf(state: RefreshState, now: number): SidecarPhase {
  const { svid, token, retry } = state;
  const expired =
    (svid !== undefined && now >= svid.expiresAt) ||
    (token !== undefined && (state.accessTokenRemoved || now >= token.expiresAt));
  if (expired) return 'expired';
  if (retry !== undefined) return 'degraded';
  return svid !== undefined && token !== undefined ? 'ready' : 'starting';
}

/** True when all four files are on disk and unexpired (what `/healthz` reports). */
export function credentialsFresh(state: RefreshState, now: number): boolean {
  const { svid, token } = state;
  return (
    svid !== undefined &&
    token !== undefined &&
    !state.accessTokenRemoved &&
    now < svid.expiresAt &&
    now < token.expiresAt
  );
}

/** The state after a new SVID was obtained and written. */
export function withSvid(state: RefreshState, svid: CredentialLifetime): RefreshState {
  return { ...state, svid };
}

/** The state after a new access token was obtained and written. */
export function withToken(state: RefreshState, token: CredentialLifetime): RefreshState {
  return { ...state, token, accessTokenRemoved: false };
}

/** The state after `access-token` was removed at expiry. */
export function withTokenRemoved(state: RefreshState): RefreshState {
  return { ...state, accessTokenRemoved: true };
}

/** The state after a cycle in which every due step succeeded: the failure run ends. */
export function withSuccess(state: RefreshState): RefreshState {
  return { ...state, retry: undefined };
}

/**
 * The state once the SVID's CA was found distrusted (it left the trust bundle, or the server
 * refused the SVID with `ERR_AUTHN_CA_DISTRUSTED`): the SVID is renewed now, even in the
 * middle of a backoff, because no amount of waiting makes it good again. A renewal that then
 * fails backs off as usual.
 */
export function withSvidDistrusted(state: RefreshState, now: number): RefreshState {
  if (state.svid === undefined) return state;
  const { svid, retry } = state;
  return {
    ...state,
    svid: { ...svid, renewAt: Math.min(svid.renewAt, now) },
    retry: retry === undefined ? undefined : { ...retry, retryAt: Math.min(retry.retryAt, now) },
  };
}

/**
 * The state after a failed cycle: one more consecutive failure, the next attempt after a
 * capped, jittered exponential backoff. Retries continue past expiry (at the cap) so the
 * sidecar recovers by itself when an outage outlasts the credentials.
 */
export function withFailure(
  state: RefreshState,
  now: number,
  code: ErrorCode,
  random: RandomSource,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): RefreshState {
  const failures = (state.retry?.failures ?? 0) + 1;
  return {
    ...state,
    retry: { failures, code, retryAt: now + backoffDelay(failures, random, policy) },
  };
}
