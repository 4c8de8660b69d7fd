// A keyring's keys in a real SoftHSM2 token: made there by rotation, destroyed there when their
// row is dropped or distrusted, and never left behind by a round that did not commit.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { TokenKeys, TokenPin, TokenSessionPool } from '../../src/hsm/index.js';
import { JwtAuthorityKeyring, type JwtAuthoritySettings } from '../../src/jwtsvid/index.js';
import { KeyVault } from '../../src/keyring/index.js';
import { keyRows, tokenPrivateKeys } from '../e2e/token-inventory.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { describeWithSoftHsm } from '../hsm/describe-with-softhsm.js';
import { USER_PIN, createSoftHsmToken, type SoftHsmToken } from '../hsm/softhsm.js';

const HOUR = 3_600_000;
const TTL = 5 * 60_000;
const settings: JwtAuthoritySettings = {
  svidTtlMs: TTL,
  rotationPeriodMs: 24 * HOUR,
  clockToleranceMs: 60_000,
  propagationMs: 5 * 60_000,
  tick: false,
};
/** How long a retired key stays published: TTL + leeway + propagation. */
const RETENTION = TTL + 60_000 + 5 * 60_000;
const START = Date.UTC(2026, 2, 1);

describeWithSoftHsm('JWT authority keys in a SoftHSM2 token', () => {
  let token: SoftHsmToken;
  let pool: TokenSessionPool;
  let db: Database;
  let ring: JwtAuthorityKeyring;
  let clock: ManualClock;
  let audit: MemoryAuditLog;

  beforeEach(async () => {
    token = await createSoftHsmToken('hallmark-lifecycle');
    pool = await TokenSessionPool.open({
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: new TokenPin(USER_PIN),
    });
    ({ db } = await createMigratedDatabase());
    clock = new ManualClock(START);
    audit = new MemoryAuditLog(clock);
    ring = await JwtAuthorityKeyring.start(
      {
        db,
        master: new MasterKey(randomBytes(32)),
        vault: new KeyVault(new TokenKeys(pool)),
        clock,
        audit,
        log: { info: () => undefined, warn: () => undefined },
      },
      settings,
    );
  });
  afterEach(async () => {
    ring?.stop();
    await db?.close();
    await pool?.close();
    await token?.remove();
  });

  /** CKA_IDs of the private keys in the token, and the token ids the rows point to. */
  async function custody(): Promise<{ objects: string[]; rows: Record<string, string> }> {
    const objects = (await tokenPrivateKeys(token)).map((o) => o.id).sort();
    const rows = Object.fromEntries(
      (await keyRows(db))
        .filter((row) => row.table === 'jwt_authority_keys' && row.tokenId !== undefined)
        .map((row) => [row.key, row.tokenId!]),
    );
    return { objects, rows };
  }

  it('rotation makes the successor in the token; the old key is destroyed when its row is dropped', async () => {
    const first = ring.signingAuthority().kid;
    const start = await custody();
    expect(start.objects).toEqual([start.rows[first]]);

    clock.advance(12 * HOUR);
    expect(await ring.rotate({ wait: false, actor: 'system' })).toBe(true);
    clock.advance(12 * HOUR);
    expect(await ring.rotate({ wait: false, actor: 'system' })).toBe(true);
    const second = ring.signingAuthority().kid;
    expect(second).not.toBe(first);
    const rotated = await custody();
    // The retired key still verifies tokens it signed, and stays in the token until it drops.
    expect(rotated.objects).toEqual([rotated.rows[first], rotated.rows[second]].sort());

    clock.set(START + 24 * HOUR + RETENTION);
    expect(await ring.rotate({ wait: false, actor: 'system' })).toBe(true);
    const dropped = await custody();
    expect(Object.keys(dropped.rows)).toEqual([second]);
    expect(dropped.objects).toEqual([dropped.rows[second]]);
    expect(audit.records.map((r) => r.action)).toContain('jwt_authority.dropped');
  });

  it('distrust destroys the key in the token at once', async () => {
    const first = ring.signingAuthority().kid;
    const before = await custody();
    const result = await ring.distrust({ kid: first, rotate: true, actor: 'admin' });
    expect(result.changed).toBe(true);
    const after = await custody();
    expect(after.objects).not.toContain(before.rows[first]);
    expect(after.rows[first]).toBeUndefined();
    expect(after.objects).toEqual([after.rows[ring.signingAuthority().kid]]);
  });

  it('a rotation whose audit row cannot be written leaves no key in the token', async () => {
    const before = await custody();
    clock.advance(12 * HOUR);
    audit.failing = true;
    await expect(ring.rotate({ wait: false, actor: 'system' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
    });
    expect(await custody()).toEqual(before);
  });
});
