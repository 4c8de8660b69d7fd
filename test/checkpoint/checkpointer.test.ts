// Checkpoints on PostgreSQL: cadence with an injected clock, offline verification, one signer.
import { randomBytes } from 'node:crypto';
import { compactVerify, createLocalJWKSet } from 'jose';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PgAuditLog } from '../../src/audit/index.js';
import {
  CHECKPOINT_TYP,
  readCheckpoints,
  startAuditCheckpoints,
  verifyCheckpointJws,
  verifyDetachedJws,
} from '../../src/checkpoint/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  clock: ManualClock,
  options: { maxRows?: number; db?: Database; master?: MasterKey } = {},
) {
  const db = options.db ?? (await createMigratedDatabase()).db;
  if (options.db === undefined) cleanups.push(() => db.close());
  const audit = new PgAuditLog(db, clock);
  const master = options.master ?? new MasterKey(randomBytes(32));
  const checkpoints = await startAuditCheckpoints({
    db,
    master,
    clock,
    audit,
    log: quiet,
    metrics: new Registry(),
    trustDomain: 'example.org',
    intervalMs: 60_000,
    keyRotationMs: 30 * 86_400_000,
    maxRows: options.maxRows,
    tick: false,
  });
  cleanups.push(() => checkpoints.stop());
  const append = (n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        audit.append({
          actor: 'key:admin',
          action: 'secret.read',
          target: `s${i}`,
          outcome: 'success',
        }),
      ),
    );
  return { db, audit, master, checkpoints, append };
}

describe('the checkpointer', () => {
  it('signs the head every interval if it moved, and at once after maxRows rows', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const { db, checkpoints, append } = await setup(clock, { maxRows: 50 });
    const { checkpointer } = checkpoints;
    // The keyring's own bootstrap row is staged; chain it so the head exists.
    await append(3);
    const first = await checkpointer.round();
    expect(first?.seq).toBeGreaterThanOrEqual(4);
    // Head unchanged: nothing.
    clock.advance(30_000);
    expect(await checkpointer.round()).toBeUndefined();
    // Head moved, interval not over: nothing; then the interval passes: signed.
    await append(2);
    clock.advance(29_999);
    expect(await checkpointer.round()).toBeUndefined();
    clock.advance(1);
    const second = await checkpointer.round();
    expect(second?.seq).toBe((first?.seq ?? 0) + 2);
    // 50 rows later it is due before the interval.
    await append(50);
    clock.advance(1_000);
    const third = await checkpointer.round();
    expect(third?.seq).toBe((second?.seq ?? 0) + 50);
    expect(third?.time).toBe(new Date(clock.now()).toISOString());
    const stored = await readCheckpoints(db, 0, 10);
    expect(stored.map((c) => c.seq)).toEqual([first?.seq, second?.seq, third?.seq]);
  });

  it('signs statements anyone verifies offline with jose against the published JWKS', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const { db, checkpoints, append } = await setup(clock);
    await append(5);
    const signed = await checkpoints.checkpointer.round();
    const jwks = checkpoints.keyring.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(JSON.stringify(jwks)).not.toMatch(/"d"/);
    const { payload, protectedHeader } = await compactVerify(
      signed!.jws,
      createLocalJWKSet(JSON.parse(JSON.stringify(jwks))),
    );
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: CHECKPOINT_TYP, kid: signed!.kid });
    const head = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head');
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({
      v: 1,
      trust_domain: 'example.org',
      seq: Number(head.rows[0]!.seq),
      hash: head.rows[0]!.hash,
      time: new Date(clock.now()).toISOString(),
      kid: signed!.kid,
    });
    // A statement with one byte changed does not verify.
    const [h, p, s] = signed!.jws.split('.') as [string, string, string];
    const forged = Buffer.from(p, 'base64url')
      .toString()
      .replace(/"seq":\d+/, '"seq":1');
    await expect(
      verifyCheckpointJws(`${h}.${Buffer.from(forged).toString('base64url')}.${s}`, jwks),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_CHECKPOINT_INVALID' });
    // The detached signer (compliance reports) verifies with the same keys, and only its payload.
    const report = Buffer.from('{"report":1}');
    const detached = await checkpoints.keyring.signDetached(report);
    expect(detached.split('.')[1]).toBe('');
    expect(await verifyDetachedJws(detached, report, jwks)).toBe(signed!.kid);
    await expect(
      verifyDetachedJws(detached, Buffer.from('{"report":2}'), jwks),
    ).rejects.toMatchObject({ code: 'ERR_AUDIT_CHECKPOINT_INVALID' });
  });

  it('keeps retired checkpoint keys published after rotation', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const { checkpoints, append } = await setup(clock);
    await append(1);
    const before = await checkpoints.checkpointer.round();
    await checkpoints.keyring.rotate({ wait: true, force: true, actor: 'test' });
    clock.advance(400 * 86_400_000);
    await checkpoints.keyring.rotate({ wait: true, actor: 'test' });
    await append(1);
    const after = await checkpoints.checkpointer.round();
    expect(after!.kid).not.toBe(before!.kid);
    const jwks = checkpoints.keyring.jwks();
    expect(jwks.keys.map((k) => k.kid)).toContain(before!.kid);
    await verifyCheckpointJws(before!.jws, jwks);
    await verifyCheckpointJws(after!.jws, jwks);
  });

  it('signs each head once when two servers run rounds at the same moments', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const a = await setup(clock);
    const b = await setup(clock, { db: a.db, master: a.master });
    for (let i = 0; i < 10; i++) {
      await a.append(3);
      clock.advance(60_000);
      const signed = await Promise.all([
        a.checkpoints.checkpointer.round(),
        b.checkpoints.checkpointer.round(),
      ]);
      expect(signed.filter((s) => s !== undefined)).toHaveLength(1);
    }
    const stored = await readCheckpoints(a.db, 0, 100);
    expect(stored).toHaveLength(10);
  });
});
