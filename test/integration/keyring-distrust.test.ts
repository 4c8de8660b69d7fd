// Distrust as a keyring operation on PostgreSQL: a toy kind, access-token keys and JWT authorities.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NamedAuditAction } from '../../src/audit/index.js';
import { Authentication } from '../../src/authn/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import { JwtAuthorityKeyring } from '../../src/jwtsvid/index.js';
import {
  RotatingKeyring,
  openPrivateKey,
  sealPrivateKey,
  slotOf,
  type KeySchedule,
  type KeyringKind,
  type StoredKey,
} from '../../src/keyring/index.js';
import { MemoryPods } from '../fixtures/authn/memory-keys.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createEmptyDatabase, createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

const HOUR = 3_600_000;
const LOCK = 0x7e57_0002;
const schedule: KeySchedule = {
  rotationPeriodMs: 24 * HOUR,
  tokenTtlMs: 5 * 60_000,
  clockToleranceMs: 5_000,
  propagationMs: 30_000,
};
const silent = { info: () => undefined, warn: () => undefined };
/** The toy kind's actions are the test's own, outside the registry the server writes. */
const toyAction = (name: string): NamedAuditAction => name as NamedAuditAction;

interface ToyMaterial {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

const KIND: KeyringKind<ToyMaterial, StoredKey> = {
  table: {
    name: 'toy_keys',
    // Never in a token here: the vault is the sealed-only default.
    tokenKind: 'access-token',
    extraColumns: [],
    toRow: (master, material) => ({
      publicJwk: { kid: material.kid },
      sealedPrivateKey: sealPrivateKey(master, material.privateKey, `toy|${material.kid}`),
      pkcs11Id: null,
      extra: [],
    }),
    fromRow: (master, row) => ({
      ...slotOf(row),
      privateKey:
        row.sealed_private_key === null
          ? undefined
          : openPrivateKey(master, row.sealed_private_key, `toy|${row.kid}`),
    }),
  },
  channel: 'hallmark_toy_keys',
  lock: LOCK,
  actions: {
    bootstrapped: toyAction('toy.created'),
    prepared: toyAction('toy.prepared'),
    activated: toyAction('toy.activated'),
    dropped: toyAction('toy.dropped'),
    distrusted: toyAction('toy.distrusted'),
  },
  logs: { reloadFailed: 'reload failed', rotated: 'rotated', rotationCheckFailed: 'failed' },
  generate: async () => ({
    kid: randomBytes(8).toString('hex'),
    privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  }),
};

let handles: Database[];
let clock: ManualClock;
let master: MasterKey;
let audit: MemoryAuditLog;
const stops: (() => void)[] = [];

beforeEach(() => {
  handles = [];
  clock = new ManualClock(Date.UTC(2026, 2, 1));
  master = new MasterKey(randomBytes(32));
  audit = new MemoryAuditLog(clock);
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const db of handles) await db.close();
});

describe('RotatingKeyring.distrust (toy kind)', () => {
  let url: string;
  let published: number;

  async function replica(): Promise<RotatingKeyring<ToyMaterial, StoredKey>> {
    const db = new Database(url, { max: 4 });
    handles.push(db);
    const onPublishedSetChange = async (): Promise<void> => {
      published++;
    };
    const ring = new RotatingKeyring(
      { db, master, clock, audit, log: silent, onPublishedSetChange },
      KIND,
      schedule,
    );
    await ring.start();
    stops.push(() => ring.stop());
    return ring;
  }

  async function rows(): Promise<{ kid: string; status: string; sealed: boolean }[]> {
    const result = await handles[0]!.query<{ kid: string; status: string; sealed: boolean }>(
      'SELECT kid, status, sealed_private_key IS NOT NULL AS sealed FROM toy_keys ORDER BY created_at',
    );
    return result.rows;
  }

  beforeEach(async () => {
    url = await createEmptyDatabase();
    const db = new Database(url, { max: 2 });
    handles.push(db);
    await db.query(`
      CREATE TABLE toy_keys (
        kid text PRIMARY KEY, status text NOT NULL, public_jwk jsonb NOT NULL,
        sealed_private_key bytea, pkcs11_id text, created_at timestamptz NOT NULL,
        activated_at timestamptz, retired_at timestamptz
      );
      CREATE UNIQUE INDEX toy_keys_one_active ON toy_keys (status) WHERE status = 'active';
    `);
    published = 0;
  });

  it('distrusts a retired key: key wiped, published set changed, audited, every replica told', async () => {
    const a = await replica();
    const b = await replica();
    const first = a.signingKey()!.kid;
    clock.advance(1_000);
    await a.rotate({ wait: true, force: true, actor: 'key:admin' });
    await eventually(() => b.signingKey()?.kid !== first);
    const before = published;

    const result = await a.distrust({ kid: first, actor: 'key:admin', requestId: 'r-1' });
    expect(result.changed).toBe(true);
    expect((await rows()).find((row) => row.kid === first)).toMatchObject({
      status: 'distrusted',
      sealed: false,
    });
    expect(published).toBe(before + 1);
    expect(audit.records.at(-1)).toMatchObject({
      actor: 'key:admin',
      action: 'toy.distrusted',
      target: first,
      requestId: 'r-1',
    });
    expect(await eventually(() => b.keys().some((k) => k.status === 'distrusted'))).toBe(true);
  });

  it('refuses the signing key without a successor, and an unknown kid; nothing changes', async () => {
    const a = await replica();
    const signing = a.signingKey()!.kid;
    const audited = audit.records.length;
    expect(await codeOf(a.distrust({ kid: signing, actor: 'key:admin' }))).toBe(
      'ERR_KEYRING_LAST_KEY',
    );
    expect(await codeOf(a.distrust({ kid: 'no-such-kid', actor: 'key:admin' }))).toBe(
      'ERR_KEYRING_UNKNOWN_KEY',
    );
    expect(await rows()).toEqual([{ kid: signing, status: 'active', sealed: true }]);
    expect(audit.records).toHaveLength(audited);
  });

  it('distrusts the signing key together with activating a successor, in one step', async () => {
    const a = await replica();
    const b = await replica();
    const signing = a.signingKey()!.kid;
    clock.advance(1_000);
    const result = await a.distrust({ kid: signing, rotate: true, actor: 'key:admin' });
    expect(result.changes.map((c) => c.action)).toEqual([
      'toy.distrusted',
      'toy.prepared',
      'toy.activated',
    ]);
    const successor = a.signingKey()!.kid;
    expect(successor).not.toBe(signing);
    expect((await rows()).map((row) => [row.kid, row.status])).toEqual([
      [signing, 'distrusted'],
      [successor, 'active'],
    ]);
    expect(await eventually(() => b.signingKey()?.kid === successor)).toBe(true);
  });

  it('activates a freshly made key, never one prepared before the distrust', async () => {
    const a = await replica();
    const signing = a.signingKey()!.kid;
    // Let the schedule prepare the next key, as it does ahead of every rotation.
    for (let i = 0; i < 48 && !a.keys().some((k) => k.status === 'prepared'); i++) {
      clock.advance(HOUR);
      await a.rotate({ wait: true, actor: 'system' });
    }
    const early = a.keys().find((k) => k.status === 'prepared')?.kid;
    expect(early).toBeDefined();
    const result = await a.distrust({ kid: signing, rotate: true, actor: 'key:admin' });
    expect(result.changes.map((c) => [c.action, c.kid === early])).toEqual([
      ['toy.distrusted', false],
      ['toy.distrusted', true],
      ['toy.prepared', false],
      ['toy.activated', false],
    ]);
    const successor = a.signingKey()!.kid;
    expect([signing, early]).not.toContain(successor);
    expect(
      (await rows())
        .filter((row) => row.status === 'distrusted')
        .map((r) => r.kid)
        .sort(),
    ).toEqual([signing, early].sort());
  });

  it('a repeat changes nothing and writes no row', async () => {
    const a = await replica();
    clock.advance(1_000);
    const signing = a.signingKey()!.kid;
    await a.distrust({ kid: signing, rotate: true, actor: 'key:admin' });
    const audited = audit.records.length;
    expect((await a.distrust({ kid: signing, actor: 'key:admin' })).changed).toBe(false);
    expect(audit.records).toHaveLength(audited);
  });

  it('commits with its audit row or not at all', async () => {
    const a = await replica();
    clock.advance(1_000);
    await a.rotate({ wait: true, force: true, actor: 'system' });
    const retired = a.keys().find((key) => key.status === 'retired')!.kid;
    audit.failing = true;
    expect(await codeOf(a.distrust({ kid: retired, actor: 'key:admin' }))).toBe(
      'ERR_AUDIT_UNAVAILABLE',
    );
    expect((await rows()).find((row) => row.kid === retired)?.status).toBe('retired');
    audit.failing = false;
  });
});

describe('distrust of access-token keys and JWT authorities', () => {
  let url: string;

  beforeEach(async () => {
    const created = await createMigratedDatabase();
    url = created.url;
    handles.push(created.db);
  });

  function db(): Database {
    const handle = new Database(url, { max: 4 });
    handles.push(handle);
    return handle;
  }

  it('a distrusted token key verifies nothing on any replica, long before its retention ends', async () => {
    const start = () =>
      Authentication.start(
        {
          db: db(),
          master,
          clock,
          audit,
          log: silent,
          pods: new MemoryPods(),
          registrationCheck: () => true,
          bundle: () => [],
        },
        { issuer: 'https://hallmark.test', trustDomain: 'hallmark.local', tokenTtlMs: 480_000 },
      );
    const a = await start();
    const b = await start();
    stops.push(
      () => a.stop(),
      () => b.stop(),
    );
    const token = (await a.issuer.issue({ identity: 'key:app', role: 'app' })).token;
    await b.verifier.verify(token);
    const kid = a.keyring.signingKey().kid;
    clock.advance(1_000);
    await a.keyring.distrust({ kid, rotate: true, actor: 'key:admin' });
    expect(await eventually(() => b.keyring.signingKey().kid !== kid)).toBe(true);
    expect(await codeOf(b.verifier.verify(token))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(await codeOf(a.verifier.verify(token))).toBe('ERR_AUTHN_TOKEN_INVALID');
    expect(audit.records.map((r) => r.action)).toContain('token_key.distrusted');
  });

  it('a distrusted JWT authority leaves the bundle at once, with a new spiffe_sequence', async () => {
    const ring = await JwtAuthorityKeyring.start(
      {
        db: db(),
        master,
        clock,
        audit,
        log: silent,
        onPublishedSetChange: async (client) => {
          await client.query('UPDATE bundle_state SET sequence = sequence + 1');
        },
      },
      { svidTtlMs: 300_000, tick: false },
    );
    stops.push(() => ring.stop());
    const sequence = async (): Promise<number> =>
      Number((await handles[0]!.query('SELECT sequence FROM bundle_state')).rows[0]?.sequence);
    const kid = ring.signingAuthority().kid;
    clock.advance(1_000);
    const before = await sequence();
    await ring.distrust({ kid, rotate: true, actor: 'key:admin' });
    expect(ring.bundleJwks().map((key) => key.kid)).not.toContain(kid);
    expect(ring.bundleJwks()).toHaveLength(1);
    expect(await sequence()).toBeGreaterThan(before);
    expect(ring.authorities().find((a) => a.kid === kid)?.status).toBe('distrusted');
  });
});
