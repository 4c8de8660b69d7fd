// The tally of throttled strangers: counted per address, written as one audit row each per flush.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { THROTTLED_ACTION, ThrottleTally } from '../../src/http/index.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';

function setup(maxAddresses?: number, maxRowsPerInterval?: number) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const audit = new MemoryAuditLog(clock);
  const tally = new ThrottleTally({ audit, clock, maxAddresses, maxRowsPerInterval });
  return { clock, audit, tally };
}

/** `addr → count` of the rows written. */
function counted(audit: MemoryAuditLog): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of audit.records) {
    const match = /^addr=(\S+) count=(\d+) since=\S+$/.exec(r.target);
    if (match) out[match[1] as string] = (out[match[1] as string] ?? 0) + Number(match[2]);
  }
  return out;
}

describe('ThrottleTally', () => {
  afterEach(() => vi.useRealTimers());

  it('writes one row per address with its count, and nothing when nothing was counted', async () => {
    const { audit, tally, clock } = setup();
    for (let i = 0; i < 468; i += 1) tally.count('10.0.0.7');
    tally.count('10.0.0.8', 3);
    expect(tally.pending()).toBe(471);
    clock.advance(10_000);
    expect(await tally.flush()).toBe(2);
    expect(audit.records).toHaveLength(2);
    expect(counted(audit)).toEqual({ '10.0.0.7': 468, '10.0.0.8': 3 });
    const row = audit.records.find((r) => r.target.startsWith('addr=10.0.0.7 '));
    expect(row).toMatchObject({
      actor: 'anonymous',
      action: THROTTLED_ACTION,
      outcome: 'denied',
      reason: 'ERR_REQUEST_RATE_LIMITED',
      target: 'addr=10.0.0.7 count=468 since=2026-01-01T12:00:00.000Z',
    });
    expect(await tally.flush()).toBe(0);
    expect(audit.records).toHaveLength(2);
    expect(tally.pending()).toBe(0);
  });

  it('bounds the rows of a flush: addresses beyond the bound share one row, none uncounted', async () => {
    const { audit, tally } = setup(4);
    for (let i = 0; i < 1000; i += 1) tally.count(`10.1.${Math.floor(i / 250)}.${i % 250}`, 2);
    await tally.flush();
    expect(audit.records).toHaveLength(5);
    const rows = counted(audit);
    expect(rows['*']).toBe(2 * 996);
    expect(Object.values(rows).reduce((a, b) => a + b, 0)).toBe(2000);
  });

  it('keeps the counts a failed flush could not write, for the next one', async () => {
    const { audit, tally } = setup();
    tally.count('a', 5);
    tally.count('b', 7);
    audit.failing = true;
    await expect(tally.flush()).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(tally.pending()).toBe(12);
    tally.count('a');
    audit.failing = false;
    expect(await tally.flush()).toBe(2);
    expect(counted(audit)).toEqual({ a: 6, b: 7 });
  });

  it('flushes on its interval and once more when stopped', async () => {
    vi.useFakeTimers();
    const { audit, tally } = setup();
    tally.start(10_000);
    tally.count('a', 2);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(audit.records).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(counted(audit)).toEqual({ a: 2 });
    tally.count('b');
    await tally.stop();
    expect(counted(audit)).toEqual({ a: 2, b: 1 });
    tally.count('c');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(audit.records).toHaveLength(2); // stopped: no more interval flushes
  });

  it('grants a bounded number of rows of their own per interval, over all addresses', async () => {
    const { tally } = setup(undefined, 3);
    expect([1, 2, 3, 4, 5].map(() => tally.admitRow())).toEqual([true, true, true, false, false]);
    await tally.flush();
    // A new interval, a new budget.
    expect(tally.admitRow()).toBe(true);
  });

  it('sums refusals counted beyond the budget per address and code, the code as reason', async () => {
    const { audit, tally } = setup(2);
    tally.count('10.0.0.1', 4, 'ERR_AUTHN_TOKEN_INVALID');
    tally.count('10.0.0.1', 2);
    // Beyond 2 entries the least recent ones move to addr=*, still under their own code.
    tally.count('10.0.0.2', 1, 'ERR_AUTHN_TOKEN_INVALID');
    tally.count('10.0.0.3', 5, 'ERR_AUTHN_TOKEN_INVALID');
    expect(tally.pending()).toBe(12);
    expect(await tally.flush()).toBe(4);
    const rows = audit.records.map((r) => [r.target.replace(/ since=\S+$/, ''), r.reason]);
    expect(rows.sort()).toEqual(
      [
        ['addr=10.0.0.2 count=1', 'ERR_AUTHN_TOKEN_INVALID'],
        ['addr=10.0.0.3 count=5', 'ERR_AUTHN_TOKEN_INVALID'],
        ['addr=* count=4', 'ERR_AUTHN_TOKEN_INVALID'],
        ['addr=* count=2', 'ERR_REQUEST_RATE_LIMITED'],
      ].sort(),
    );
  });
});
