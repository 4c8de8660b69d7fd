// The bench's command line: which rows `--only` selects, and what it refuses.
import { describe, expect, it } from 'vitest';
import { ROWS, parseBenchOptions } from './bench-options.js';

describe('parseBenchOptions', () => {
  it('runs every row with 32 connections and a 2,000-pod storm by default', () => {
    const options = parseBenchOptions([]);
    expect([...options.rows]).toEqual(Object.keys(ROWS));
    expect(options).toMatchObject({ connections: 32, stormConnections: 128, stormPods: 2000 });
  });

  it('runs only the rows named (comma lists, repeated flags, groups) plus raw sign', () => {
    const options = parseBenchOptions(['--only', 'svid,cfssl', '--only=floors']);
    expect([...options.rows].sort()).toEqual(
      ['raw', 'svid', 'cfssl', 'noop', 'login-floor', 'batch-floor'].sort(),
    );
  });

  it('refuses a row it does not know, naming it', () => {
    expect(() => parseBenchOptions(['--only', 'svdi'])).toThrow(/svdi/);
  });

  it('takes server variables as NAME=VALUE and refuses anything else', () => {
    expect(
      parseBenchOptions(['--server-env', 'HALLMARK_LOG_LEVEL=warn', '--server-env', 'A=b=c'])
        .serverEnv,
    ).toEqual({ HALLMARK_LOG_LEVEL: 'warn', A: 'b=c' });
    expect(() => parseBenchOptions(['--server-env', 'novalue'])).toThrow();
  });

  it('takes worker counts to run the hallmark rows with, side by side', () => {
    expect(parseBenchOptions([]).workers).toBeUndefined();
    expect(parseBenchOptions(['--workers', '1,2']).workers).toEqual([1, 2]);
    expect(() => parseBenchOptions(['--workers', '1,0'])).toThrow(/--workers/);
    expect(() =>
      parseBenchOptions(['--workers', '2', '--server-env', 'HALLMARK_WORKERS=1']),
    ).toThrow(/--workers/);
  });

  it('takes settings to compare the hallmark rows with, but not beside worker counts', () => {
    expect(parseBenchOptions([]).compare).toBeUndefined();
    expect(
      parseBenchOptions(['--compare', 'HALLMARK_LOG_LEVEL=warn', '--compare', 'A=b']).compare,
    ).toEqual({ HALLMARK_LOG_LEVEL: 'warn', A: 'b' });
    expect(() => parseBenchOptions(['--compare', 'A=b', '--workers', '1,2'])).toThrow(/--compare/);
    expect(() => parseBenchOptions(['--compare', 'novalue'])).toThrow(/--compare/);
  });

  it('shrinks the storm in quick mode unless told', () => {
    expect(parseBenchOptions(['--quick']).stormPods).toBe(200);
    expect(parseBenchOptions(['--quick', '--storm-pods', '50']).stormPods).toBe(50);
    expect(() => parseBenchOptions(['--connections', '0'])).toThrow();
  });
});
