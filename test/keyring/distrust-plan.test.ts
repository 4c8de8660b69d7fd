// When a key may be distrusted, and what distrusted keys still count for: pure rules.
import { describe, expect, it } from 'vitest';
import {
  expiredSlots,
  nextRotationStep,
  planDistrust,
  verificationSlots,
  type KeySchedule,
  type KeySlot,
} from '../../src/keyring/index.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const schedule: KeySchedule = {
  rotationPeriodMs: 24 * HOUR,
  tokenTtlMs: 8 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
};

function slot(kid: string, status: KeySlot['status'], retiredAt?: number): KeySlot {
  return { kid, status, createdAt: T0 - 48 * HOUR, activatedAt: T0 - 24 * HOUR, retiredAt };
}

const keys = [
  slot('old', 'retired', T0 - 60_000),
  slot('signing', 'active'),
  slot('next', 'prepared'),
  slot('gone', 'distrusted', T0 - 60_000),
];

describe('planDistrust', () => {
  it('distrusts a retired or prepared key alone', () => {
    expect(planDistrust(keys, 'old', false)).toEqual({
      kind: 'distrust',
      activateSuccessor: false,
    });
    expect(planDistrust(keys, 'next', false)).toEqual({
      kind: 'distrust',
      activateSuccessor: false,
    });
  });

  it('refuses the signing key unless a successor is activated in the same step', () => {
    expect(planDistrust(keys, 'signing', false)).toEqual({ kind: 'last' });
    expect(planDistrust(keys, 'signing', true)).toEqual({
      kind: 'distrust',
      activateSuccessor: true,
    });
  });

  it('activates a successor with rotate whatever the key, and knows unknown and repeated kids', () => {
    expect(planDistrust(keys, 'old', true)).toEqual({ kind: 'distrust', activateSuccessor: true });
    expect(planDistrust(keys, 'nope', true)).toEqual({ kind: 'unknown' });
    expect(planDistrust(keys, 'gone', true)).toEqual({ kind: 'already' });
  });
});

describe('distrusted keys in the schedule', () => {
  it('verify nothing from the moment they are distrusted, and are dropped after retention', () => {
    expect(verificationSlots(keys, T0, schedule).map((s) => s.kid)).toEqual([
      'old',
      'signing',
      'next',
    ]);
    expect(expiredSlots(keys, T0, schedule)).toEqual([]);
    const later = T0 + schedule.tokenTtlMs + schedule.clockToleranceMs + schedule.propagationMs;
    expect(expiredSlots(keys, later, schedule).map((s) => s.kid)).toEqual(['old', 'gone']);
  });

  it('are never activated nor counted as the signing key', () => {
    const onlyDistrusted = [slot('gone', 'distrusted', T0)];
    expect(nextRotationStep(onlyDistrusted, T0, schedule)).toEqual({ kind: 'bootstrap' });
  });
});
