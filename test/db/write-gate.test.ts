// The bound on change transactions: few run at once, writers of one key run one at a time in order.
import { describe, expect, it } from 'vitest';
import { MAX_SLOT_STREAK, WriteGate } from '../../src/db/index.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteGate', () => {
  it('runs at most `limit` at once, hands slots over in arrival order, and survives failures', async () => {
    const gate = new WriteGate(2);
    const started: number[] = [];
    const releases = [deferred(), deferred(), deferred(), deferred()];
    const runs = releases.map((release, i) =>
      gate.run(`key-${i}`, async () => {
        started.push(i);
        await release.promise;
        if (i === 0) throw new Error('first fails');
        return i;
      }),
    );
    await settle();
    expect(started).toEqual([0, 1]);
    releases[0]!.resolve();
    await expect(runs[0]).rejects.toThrow('first fails');
    await settle();
    expect(started).toEqual([0, 1, 2]);
    releases[1]!.resolve();
    releases[2]!.resolve();
    await expect(runs[1]).resolves.toBe(1);
    await expect(runs[2]).resolves.toBe(2);
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    releases[3]!.resolve();
    await expect(runs[3]).resolves.toBe(3);
    expect(gate.active).toBe(0);
  });

  it('runs writers of one key one at a time in arrival order, without taking a slot to wait', async () => {
    const gate = new WriteGate(2);
    const started: string[] = [];
    const releases = new Map(['a1', 'a2', 'a3', 'b1'].map((name) => [name, deferred()]));
    const run = (key: string, name: string) =>
      gate.run(key, async () => {
        started.push(name);
        await releases.get(name)!.promise;
        if (name === 'a1') throw new Error('a1 fails');
        return name;
      });
    const a1 = run('a', 'a1');
    const a2 = run('a', 'a2');
    const a3 = run('a', 'a3');
    const b1 = run('b', 'b1');
    await settle();
    // a2 and a3 wait for a1 in memory; b1 still gets the second slot.
    expect(started).toEqual(['a1', 'b1']);
    expect(gate.active).toBe(2);
    releases.get('a1')!.resolve();
    await expect(a1).rejects.toThrow('a1 fails');
    await settle();
    expect(started).toEqual(['a1', 'b1', 'a2']);
    releases.get('a2')!.resolve();
    releases.get('a3')!.resolve();
    releases.get('b1')!.resolve();
    expect(await Promise.all([a2, a3, b1])).toEqual(['a2', 'a3', 'b1']);
    expect(started).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(gate.active).toBe(0);
  });

  it('hands a slot to the next writer of the same key, up to a streak, then queues the key again', async () => {
    const gate = new WriteGate(1);
    const order: string[] = [];
    const hot = Array.from({ length: MAX_SLOT_STREAK + 4 }, (_, i) =>
      gate.run('hot', async () => {
        order.push(`hot${i}`);
        await settle();
      }),
    );
    // Arrives while the first hot writer runs; waits for the one slot like any other key.
    const other = gate.run('other', async () => {
      order.push('other');
    });
    await Promise.all([...hot, other]);
    const streak = Array.from({ length: MAX_SLOT_STREAK }, (_, i) => `hot${i}`);
    const rest = Array.from({ length: 4 }, (_, i) => `hot${MAX_SLOT_STREAK + i}`);
    expect(order).toEqual([...streak, 'other', ...rest]);
    expect(gate.active).toBe(0);
  });

  it('needs a positive integer limit', () => {
    expect(() => new WriteGate(0)).toThrow();
    expect(() => new WriteGate(1.5)).toThrow();
  });
});
