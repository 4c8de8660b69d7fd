// The bound on concurrent broker changes: at most `limit` run, the rest wait in order.
import { describe, expect, it } from 'vitest';
import { MutationGate } from '../../broker/mutation-gate.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('MutationGate', () => {
  it('runs at most `limit` at once, hands slots over in arrival order, and survives failures', async () => {
    const gate = new MutationGate(2);
    const started: number[] = [];
    const releases = [deferred(), deferred(), deferred(), deferred()];
    const runs = releases.map((release, i) =>
      gate.run(async () => {
        started.push(i);
        await release.promise;
        if (i === 0) throw new Error('first fails');
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    releases[0]!.resolve();
    await expect(runs[0]).rejects.toThrow('first fails');
    expect(started).toEqual([0, 1, 2]);
    releases[1]!.resolve();
    releases[2]!.resolve();
    await expect(runs[1]).resolves.toBe(1);
    await expect(runs[2]).resolves.toBe(2);
    expect(started).toEqual([0, 1, 2, 3]);
    releases[3]!.resolve();
    await expect(runs[3]).resolves.toBe(3);
    // All slots are free again.
    const free = await Promise.all([gate.run(async () => 'a'), gate.run(async () => 'b')]);
    expect(free).toEqual(['a', 'b']);
  });

  it('needs a positive integer limit', () => {
    expect(() => new MutationGate(0)).toThrow();
    expect(() => new MutationGate(1.5)).toThrow();
  });
});
