// The generic rotating keyring on PostgreSQL, driven through a toy kind with a table of its own.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NamedAuditAction } from '../../src/audit/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import {
  RotatingKeyring,
  openPrivateKey,
  retentionMs,
  sealPrivateKey,
  slotOf,
  type KeySchedule,
  type KeyringKind,
  type StoredKey,
} from '../../src/keyring/index.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';

/** The toy kind's actions are not Hallmark's: outside the registry on purpose. */
const toyAction = (name: string): NamedAuditAction => name as NamedAuditAction;
const HOUR = 3_600_000;
const LOCK = 0x7e57_0001;
const schedule: KeySchedule = {
  rotationPeriodMs: 24 * HOUR,
  tokenTtlMs: 5 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
};

interface TestMaterial {
  readonly kid: string;
  readonly label: string;
  readonly privateKey: KeyObject;
}

interface StoredTestKey extends StoredKey {
  readonly label: string;
}

const aad = (kid: string, label: string): string => `test-key|${kid}|${label}`;

const KIND: KeyringKind<TestMaterial, StoredTestKey> = {
  table: {
    name: 'test_keys',
    // Never in a token here: the vault is the sealed-only default.
    tokenKind: 'access-token',
    extraColumns: ['label'],
    toRow: (master, material) => ({
      publicJwk: { kid: material.kid },
      sealedPrivateKey: sealPrivateKey(
        master,
        material.privateKey,
        aad(material.kid, material.label),
      ),
      pkcs11Id: null,
      extra: [material.label],
    }),
    fromRow: (master, row) => {
      const label = String(row['label']);
      return {
        ...slotOf(row),
        label,
        privateKey:
          row.sealed_private_key === null
            ? undefined
            : openPrivateKey(master, row.sealed_private_key, aad(row.kid, label)),
      };
    },
  },
  channel: 'hallmark_test_keys',
  lock: LOCK,
  actions: {
    bootstrapped: toyAction('test_key.created'),
    prepared: toyAction('test_key.prepared'),
    activated: toyAction('test_key.activated'),
    dropped: toyAction('test_key.dropped'),
  },
  logs: { reloadFailed: 'reload failed', rotated: 'rotated', rotationCheckFailed: 'check failed' },
  generate: async () => ({
    kid: randomBytes(8).toString('hex'),
    label: 'toy',
    privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  }),
};

let url: string;
let handles: Database[];
let rings: RotatingKeyring<TestMaterial, StoredTestKey>[];
let clock: ManualClock;
let master: MasterKey;
let audit: MemoryAuditLog;
let publishedSetChanges: number;

async function replica(
  onLoad?: (stored: readonly StoredTestKey[]) => Promise<void>,
): Promise<RotatingKeyring<TestMaterial, StoredTestKey>> {
  const db = new Database(url, { max: 4 });
  handles.push(db);
  const deps = {
    db,
    master,
    clock,
    audit,
    log: { info: () => undefined, warn: () => undefined },
    onPublishedSetChange: async () => {
      publishedSetChanges++;
    },
  };
  const ring = new RotatingKeyring(deps, KIND, schedule, onLoad);
  await ring.start();
  rings.push(ring);
  return ring;
}

function actions(): string[] {
  return audit.records.map((record) => record.action);
}

function statuses(ring: RotatingKeyring<TestMaterial, StoredTestKey>): string[] {
  return ring.keys().map((key) => key.status);
}

beforeEach(async () => {
  // The toy kind brings its own table; no migration is needed.
  url = await createEmptyDatabase();
  handles = [new Database(url, { max: 4 })];
  await handles[0]!.query(`
    CREATE TABLE test_keys (
      kid text PRIMARY KEY,
      label text NOT NULL,
      status text NOT NULL,
      public_jwk jsonb NOT NULL,
      sealed_private_key bytea,
      pkcs11_id text,
      created_at timestamptz NOT NULL,
      activated_at timestamptz,
      retired_at timestamptz
    );
    CREATE UNIQUE INDEX test_keys_one_active ON test_keys (status) WHERE status = 'active';
  `);
  rings = [];
  publishedSetChanges = 0;
  clock = new ManualClock(Date.UTC(2026, 2, 1));
  master = new MasterKey(randomBytes(32));
  audit = new MemoryAuditLog(clock);
});

afterEach(async () => {
  for (const ring of rings) ring.stop();
  for (const db of handles) await db.close();
});

describe('RotatingKeyring', () => {
  it('replicas starting together create one active key, with the kind’s own columns', async () => {
    const [a, b, c] = await Promise.all([replica(), replica(), replica()]);
    const kids = [a, b, c].map((ring) => ring.signingKey()?.kid);
    expect(new Set(kids).size).toBe(1);
    expect(a.signingKey()?.label).toBe('toy');
    expect(actions()).toEqual(['test_key.created']);
    expect(publishedSetChanges).toBe(1);
    const rows = await handles[0]!.query<{ label: string; status: string }>(
      'SELECT label, status FROM test_keys',
    );
    expect(rows.rows).toEqual([{ label: 'toy', status: 'active' }]);
  });

  it('prepares, activates and drops on schedule; other replicas follow by NOTIFY', async () => {
    const a = await replica();
    const b = await replica();
    let changes = 0;
    b.onChange(() => changes++);
    const first = a.signingKey()!.kid;

    clock.advance(12 * HOUR);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(await eventually(() => statuses(b).join() === 'active,prepared')).toBe(true);
    expect(changes).toBe(1);
    expect(publishedSetChanges).toBe(2);

    clock.advance(12 * HOUR);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(await eventually(() => b.signingKey()?.kid !== first)).toBe(true);
    // Activation moves the signing role only: the published set is the same.
    expect(publishedSetChanges).toBe(2);
    expect(a.keys().find((key) => key.kid === first)?.privateKey).toBeUndefined();

    clock.advance(retentionMs(schedule));
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(await eventually(() => statuses(b).join() === 'active')).toBe(true);
    expect(publishedSetChanges).toBe(3);
    expect(actions()).toEqual([
      'test_key.created',
      'test_key.prepared',
      'test_key.activated',
      'test_key.dropped',
    ]);
  });

  it('rotates at once when forced', async () => {
    const a = await replica();
    const first = a.signingKey()!.kid;
    // Keys created in the same millisecond would list in kid order.
    clock.advance(1_000);
    expect(await a.rotate({ wait: true, force: true, actor: 'key:admin' })).toBe(true);
    expect(a.signingKey()!.kid).not.toBe(first);
    expect(statuses(a)).toEqual(['retired', 'active']);
    expect(audit.records.slice(1).map((r) => [r.action, r.actor])).toEqual([
      ['test_key.prepared', 'key:admin'],
      ['test_key.activated', 'key:admin'],
    ]);
  });

  it('skips the round while another replica holds the lock', async () => {
    const a = await replica();
    clock.advance(12 * HOUR);
    await handles[0]!.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK]);
      expect(await a.rotate({ wait: false, actor: 'system' })).toBe(false);
    });
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
  });

  it('a failed reload keeps the keys it had', async () => {
    let fail = false;
    const a = await replica(async () => {
      if (fail) throw new Error('index failed');
    });
    const before = a.keys();
    fail = true;
    clock.advance(12 * HOUR);
    await expect(a.rotate({ wait: false, actor: 'system' })).rejects.toThrow('index failed');
    expect(a.keys()).toBe(before);
    fail = false;
    await a.reload();
    expect(statuses(a)).toEqual(['active', 'prepared']);
  });

  it('a failed start leaves no NOTIFY subscription behind', async () => {
    let loads = 0;
    await expect(
      replica(async () => {
        loads++;
        throw new Error('index failed');
      }),
    ).rejects.toThrow('index failed');
    // The bootstrap's own NOTIFY may still be delivered to the subscription being removed.
    const settle = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 300));
    await settle();
    const seen = loads;
    await handles[0]!.query(`NOTIFY ${KIND.channel}`);
    await settle();
    expect(loads).toBe(seen);
  });
});
