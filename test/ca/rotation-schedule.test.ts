import { describe, expect, it } from 'vitest';
import { nextRotationStep, publishedSlots, type CaSlot } from '../../src/ca/index.js';

const HOUR = 3_600_000;
const active: CaSlot = { id: 1, status: 'active', notBefore: 0, notAfter: 60 * HOUR };

describe('CA rotation schedule', () => {
  it.each([
    ['no CA at all', [], 0, { kind: 'bootstrap' }],
    ['fresh active CA', [active], 10 * HOUR, { kind: 'none' }],
    ['just before half-life', [active], 30 * HOUR - 1, { kind: 'none' }],
    ['at half-life', [active], 30 * HOUR, { kind: 'prepare' }],
    [
      'prepared, before one sixth remains',
      [active, { id: 2, status: 'prepared', notBefore: 30 * HOUR, notAfter: 90 * HOUR }],
      50 * HOUR - 1,
      { kind: 'none' },
    ],
    [
      'prepared, one sixth remains',
      [active, { id: 2, status: 'prepared', notBefore: 30 * HOUR, notAfter: 90 * HOUR }],
      50 * HOUR,
      { kind: 'activate', id: 2 },
    ],
    [
      'prepared but no active',
      [{ id: 2, status: 'prepared', notBefore: 0, notAfter: HOUR }],
      0,
      { kind: 'activate', id: 2 },
    ],
  ] as const)('%s', (_name, slots, now, step) => {
    expect(nextRotationStep(slots as readonly CaSlot[], now)).toEqual(step);
  });

  it('publishes every unexpired CA, including old ones still verifying SVIDs', () => {
    const slots: CaSlot[] = [
      { id: 1, status: 'old', notBefore: 0, notAfter: 10 },
      { id: 2, status: 'active', notBefore: 5, notAfter: 100 },
      { id: 3, status: 'prepared', notBefore: 50, notAfter: 200 },
    ];
    expect(publishedSlots(slots, 9).map((s) => s.id)).toEqual([1, 2, 3]);
    expect(publishedSlots(slots, 10).map((s) => s.id)).toEqual([2, 3]);
  });
});

describe('a distrusted CA', () => {
  it('leaves the published set at once, long before it expires, and never signs again', () => {
    const slots: CaSlot[] = [
      { id: 1, status: 'distrusted', notBefore: 0, notAfter: 100 * HOUR },
      { id: 2, status: 'active', notBefore: 5, notAfter: 60 * HOUR },
    ];
    expect(publishedSlots(slots, 10).map((s) => s.id)).toEqual([2]);
    expect(nextRotationStep([slots[0] as CaSlot], 10)).toEqual({ kind: 'bootstrap' });
  });
});
