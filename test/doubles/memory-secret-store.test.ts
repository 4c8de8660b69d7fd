// MemorySecretStore: the same contract as the PostgreSQL store, for callers' unit tests.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { parseSecretPath, SecretPathError } from '../../src/secrets/index.js';
import { MemoryAuditLog } from './memory-audit-log.js';
import { ManualClock } from './manual-clock.js';
import { MemorySecretStore } from './memory-secret-store.js';
import { codeOf } from '../helpers/error-code.js';

const make = () =>
  new MemorySecretStore({
    master: new MasterKey(randomBytes(32)),
    clock: new ManualClock(),
    maxValueBytes: 16,
  });

describe('MemorySecretStore', () => {
  it('keeps versions and serves old ones', async () => {
    const store = make();
    await store.put(parseSecretPath('a/b'), 'one', 'key:admin');
    await store.put(parseSecretPath('a/b'), 'two', 'key:admin');
    expect(await store.get(parseSecretPath('a/b'))).toMatchObject({
      version: 2,
      value: 'two',
      createdBy: 'key:admin',
    });
    expect(await store.get(parseSecretPath('a/b'), 1)).toMatchObject({ version: 1, value: 'one' });
    expect(await codeOf(store.get(parseSecretPath('a/b'), 3))).toBe('ERR_SECRET_NOT_FOUND');
    expect(await codeOf(store.get(parseSecretPath('a/b'), 0))).toBe('ERR_SECRET_NOT_FOUND');
  });

  it('gives concurrent writers consecutive versions and writes nothing when its audit row fails', async () => {
    const store = make();
    const refs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.put(parseSecretPath('c/x'), `v${i}`, 'w')),
    );
    expect(refs.map((r) => r.version).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    const down = new MemoryAuditLog(systemClock);
    down.failing = true;
    const failed = store.put(parseSecretPath('c/x'), 'dropped', 'w', {
      audit: {
        log: down,
        event: () => ({ actor: 'w', action: 'secret.write', target: 'c/x', outcome: 'success' }),
      },
    });
    await expect(failed).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect((await store.get(parseSecretPath('c/x'))).version).toBe(10);
    expect((await store.put(parseSecretPath('c/x'), 'next', 'w')).version).toBe(11);
  });

  it('is all or nothing for batches, naming the first missing path', async () => {
    const store = make();
    await store.put(parseSecretPath('b/1'), 'x', 'w');
    const err = await store
      .getMany([parseSecretPath('b/1'), parseSecretPath('b/2'), parseSecretPath('b/3')])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretPathError);
    expect(err).toMatchObject({
      code: 'ERR_SECRET_NOT_FOUND',
      path: 'b/2',
      problems: { path: 'b/2' },
    });
  });

  it('validates values and prefixes by code (paths arrive parsed)', async () => {
    const store = make();
    expect(await codeOf(store.put(parseSecretPath('a/b'), 'x'.repeat(17), 'w'))).toBe(
      'ERR_SECRET_TOO_LARGE',
    );
    expect(await codeOf(store.put(parseSecretPath('a/b'), '\ud800', 'w'))).toBe(
      'ERR_SECRET_BAD_VALUE',
    );
    expect(await codeOf(store.deletePrefix('a'))).toBe('ERR_SECRET_BAD_PATH');
    expect(await store.count()).toEqual({ paths: 0, versions: 0 });
  });

  it('deletes a scope by prefix only', async () => {
    const store = make();
    await store.put(parseSecretPath('osb/i1/a'), 'x', 'w');
    await store.put(parseSecretPath('osb/i1/a'), 'y', 'w');
    await store.put(parseSecretPath('osb/i10/a'), 'z', 'w');
    expect(await store.deletePrefix('osb/i1/')).toEqual({ paths: 1, versions: 2 });
    expect(await store.count('osb/')).toEqual({ paths: 1, versions: 1 });
  });
});
