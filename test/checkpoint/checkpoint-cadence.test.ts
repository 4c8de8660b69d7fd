import { describe, expect, it } from 'vitest';
import { checkpointDue, DEFAULT_CHECKPOINT_CADENCE } from '../../src/checkpoint/index.js';

const cadence = { intervalMs: 60_000, maxRows: 10_000 };

describe('checkpoint cadence', () => {
  it('defaults to every minute or every 10,000 rows', () => {
    expect(DEFAULT_CHECKPOINT_CADENCE).toEqual(cadence);
  });

  it('signs the first checkpoint as soon as the chain has a row, never an empty chain', () => {
    expect(checkpointDue(undefined, undefined, 0, cadence).kind).toBe('wait');
    expect(checkpointDue({ seq: 0 }, undefined, 0, cadence).kind).toBe('wait');
    expect(checkpointDue({ seq: 1 }, undefined, 0, cadence).kind).toBe('sign');
  });

  it('signs when the interval has passed and the head moved, not before', () => {
    const last = { seq: 10, time: 1_000 };
    expect(checkpointDue({ seq: 11 }, last, 1_000 + 59_999, cadence).kind).toBe('wait');
    expect(checkpointDue({ seq: 11 }, last, 1_000 + 60_000, cadence).kind).toBe('sign');
    // An idle chain adds nothing, however long it waits.
    expect(checkpointDue({ seq: 10 }, last, 1_000 + 3_600_000, cadence).kind).toBe('wait');
  });

  it('signs at once when 10,000 rows came since the last checkpoint', () => {
    const last = { seq: 10, time: 1_000 };
    expect(checkpointDue({ seq: 10_009 }, last, 1_001, cadence).kind).toBe('wait');
    expect(checkpointDue({ seq: 10_010 }, last, 1_001, cadence).kind).toBe('sign');
  });

  it('never signs a head below the last checkpoint (rows were deleted)', () => {
    expect(checkpointDue({ seq: 5 }, { seq: 10, time: 0 }, 120_000, cadence).kind).toBe('behind');
  });
});
