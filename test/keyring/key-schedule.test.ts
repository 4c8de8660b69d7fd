// Rotation thresholds of a rotating keyring (access-token signing keys' defaults), over plain data.
import { describe, expect, it } from 'vitest';
import {
  expiredSlots,
  nextRotationStep,
  retentionMs,
  rotationTickMs,
  verificationSlots,
  type KeySchedule,
  type KeySlot,
} from '../../src/keyring/index.js';

const HOUR = 3_600_000;
const schedule: KeySchedule = {
  rotationPeriodMs: 24 * HOUR,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
};
const T0 = Date.UTC(2026, 0, 1);

function active(kid: string, activatedAt: number): KeySlot {
  return { kid, status: 'active', createdAt: activatedAt, activatedAt, retiredAt: undefined };
}
function prepared(kid: string, createdAt: number): KeySlot {
  return { kid, status: 'prepared', createdAt, activatedAt: undefined, retiredAt: undefined };
}
function retired(kid: string, retiredAt: number): KeySlot {
  return {
    kid,
    status: 'retired',
    createdAt: retiredAt - 24 * HOUR,
    activatedAt: retiredAt - 24 * HOUR,
    retiredAt,
  };
}

describe('nextRotationStep', () => {
  it('bootstraps an empty keyring with an active key', () => {
    expect(nextRotationStep([], T0, schedule)).toEqual({ kind: 'bootstrap' });
  });

  it('activates a prepared key when nothing is active', () => {
    expect(nextRotationStep([prepared('p', T0)], T0, schedule)).toEqual({
      kind: 'activate',
      kid: 'p',
    });
  });

  it('does nothing during the first half of the period', () => {
    expect(nextRotationStep([active('a', T0)], T0 + 12 * HOUR - 1, schedule)).toEqual({
      kind: 'none',
    });
  });

  it('prepares the successor at half the period', () => {
    expect(nextRotationStep([active('a', T0)], T0 + 12 * HOUR, schedule)).toEqual({
      kind: 'prepare',
    });
  });

  it('activates the successor when the period is over', () => {
    const slots = [active('a', T0), prepared('p', T0 + 12 * HOUR)];
    expect(nextRotationStep(slots, T0 + 24 * HOUR - 1, schedule)).toEqual({ kind: 'none' });
    expect(nextRotationStep(slots, T0 + 24 * HOUR, schedule)).toEqual({
      kind: 'activate',
      kid: 'p',
    });
  });

  it('waits until every replica has had time to load a late-prepared successor', () => {
    // The rotator was down: the successor is prepared only after the period ended.
    const late = T0 + 30 * HOUR;
    const slots = [active('a', T0), prepared('p', late)];
    expect(nextRotationStep(slots, late + schedule.propagationMs - 1, schedule)).toEqual({
      kind: 'none',
    });
    expect(nextRotationStep(slots, late + schedule.propagationMs, schedule)).toEqual({
      kind: 'activate',
      kid: 'p',
    });
  });

  it('drops a retired key only after its last token has expired everywhere', () => {
    const retiredAt = T0 + 24 * HOUR;
    const slots = [retired('old', retiredAt), active('a', retiredAt)];
    const keep = retentionMs(schedule);
    expect(keep).toBe(8 * 60_000 + 5_000 + 30_000);
    expect(nextRotationStep(slots, retiredAt + keep - 1, schedule)).toEqual({ kind: 'none' });
    expect(nextRotationStep(slots, retiredAt + keep, schedule)).toEqual({
      kind: 'drop',
      kids: ['old'],
    });
  });

  it('never drops active or prepared keys', () => {
    const slots = [active('a', T0), prepared('p', T0 + 12 * HOUR)];
    expect(expiredSlots(slots, T0 + 1000 * HOUR, schedule)).toEqual([]);
  });
});

describe('verificationSlots', () => {
  it('keeps prepared, active and retained keys, and no expired one', () => {
    const now = T0 + 48 * HOUR;
    const slots = [
      retired('gone', now - retentionMs(schedule)),
      retired('recent', now - 60_000),
      active('a', now - 60_000),
      prepared('p', now),
    ];
    expect(verificationSlots(slots, now, schedule).map((s) => s.kid)).toEqual(['recent', 'a', 'p']);
  });
});

describe('rotationTickMs', () => {
  it('ticks at least as often as the propagation bound, and not faster than once a second', () => {
    expect(rotationTickMs(schedule)).toBe(30_000);
    expect(rotationTickMs({ ...schedule, rotationPeriodMs: 60_000 })).toBe(1_000);
  });
});
