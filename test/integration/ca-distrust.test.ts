// Distrusting a CA on PostgreSQL: two replicas, the bundle and its sequence, restart, upgrade.
import { createHash, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CertificateAuthority,
  createCaMaterial,
  type CaDeps,
  type CaSettings,
} from '../../src/ca/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database, MIGRATIONS, migrate } from '../../src/db/index.js';
import { SEALED_ONLY } from '../../src/keyring/index.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createEmptyDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf } from '../helpers/error-code.js';

const settings: CaSettings = {
  trustDomain: 'hallmark.local',
  keyType: 'ec-p256',
  ttlSeconds: 3600,
  upstream: undefined,
};
const silent = { info: () => undefined, warn: () => undefined };

let url: string;
let handles: Database[];
let cas: CertificateAuthority[];
let clock: ManualClock;
let master: MasterKey;
let audit: MemoryAuditLog;

async function replica(): Promise<CertificateAuthority> {
  const db = new Database(url, { max: 4 });
  handles.push(db);
  const deps: CaDeps = { db, master, clock, audit, log: silent };
  const ca = await CertificateAuthority.start(deps, settings, { tick: false });
  cas.push(ca);
  return ca;
}

async function caRows(): Promise<{ id: number; status: string; keyed: boolean }[]> {
  const result = await handles[0]!.query<{ id: string; status: string; keyed: boolean }>(
    'SELECT id, status, sealed_key IS NOT NULL AS keyed FROM ca_authorities ORDER BY id',
  );
  return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
}

beforeEach(async () => {
  url = await createEmptyDatabase();
  handles = [new Database(url, { max: 4 })];
  cas = [];
  clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  master = new MasterKey(randomBytes(32));
  audit = new MemoryAuditLog(clock);
});

afterEach(async () => {
  for (const ca of cas) ca.stop();
  for (const db of handles) await db.close();
});

describe('CertificateAuthority.distrust', () => {
  beforeEach(async () => {
    await migrate(handles[0]!, MIGRATIONS);
  });

  it('takes an old CA out of the bundle at once on every replica, with a new sequence', async () => {
    const a = await replica();
    const b = await replica();
    const first = a.signingAuthority().id;
    const firstPem = a.authorities()[0]!.certificatePem;
    clock.advance(1_000);
    await a.rotate({ wait: true, force: true, actor: 'key:admin' });
    await eventually(() => b.bundle().certificatesPem.length === 2);
    const sequence = b.bundle().sequence;

    const result = await a.distrust({ id: first, actor: 'key:admin', requestId: 'req-7' });
    expect(result).toMatchObject({ changed: true, activeCa: a.signingAuthority().id });
    expect(result.sequence).toBeGreaterThan(sequence);
    expect(a.bundle().certificatesPem).not.toContain(firstPem);
    expect(await eventually(() => !b.bundle().certificatesPem.includes(firstPem))).toBe(true);
    expect(b.bundle().sequence).toBe(result.sequence);
    expect(b.distrusted().map((ca) => ca.id)).toEqual([first]);
    expect(b.authorities().find((ca) => ca.id === first)).toMatchObject({
      status: 'distrusted',
      distrustedAt: clock.now(),
    });
    // The key is wiped: whoever holds a copy, this server never signs with it again.
    expect((await caRows()).find((row) => row.id === first)).toMatchObject({ keyed: false });
    expect(audit.records.at(-1)).toMatchObject({
      actor: 'key:admin',
      action: 'ca.distrust',
      target: `ca:${first}`,
      outcome: 'success',
      requestId: 'req-7',
    });
  });

  it('refuses the only usable CA, and an unknown id, changing nothing', async () => {
    const a = await replica();
    const active = a.signingAuthority().id;
    const before = { rows: await caRows(), sequence: a.bundle().sequence };
    const audited = audit.records.length;
    expect(await codeOf(a.distrust({ id: active, actor: 'key:admin' }))).toBe(
      'ERR_CA_LAST_AUTHORITY',
    );
    expect(await codeOf(a.distrust({ id: active + 100, actor: 'key:admin' }))).toBe(
      'ERR_CA_UNKNOWN_AUTHORITY',
    );
    await a.reload();
    expect(await caRows()).toEqual(before.rows);
    expect(a.bundle().sequence).toBe(before.sequence);
    expect(audit.records).toHaveLength(audited);
  });

  it('replaces the signing CA in the same step with rotate; survives a restart', async () => {
    const a = await replica();
    const b = await replica();
    const compromised = a.signingAuthority().id;
    const compromisedPem = a.authorities()[0]!.certificatePem;
    clock.advance(1_000);
    const result = await a.distrust({ id: compromised, rotate: true, actor: 'key:admin' });
    expect(result.activeCa).not.toBe(compromised);
    expect(audit.records.slice(-3).map((r) => r.action)).toEqual([
      'ca.distrust',
      'ca.prepared',
      'ca.activated',
    ]);
    expect(await eventually(() => b.signingAuthority().id === result.activeCa)).toBe(true);
    expect(b.bundle().certificatesPem).toEqual([
      a.authorities().find((ca) => ca.id === result.activeCa)!.certificatePem,
    ]);

    // A replica started afterwards (or a restart) loads the decision from PostgreSQL.
    const c = await replica();
    expect(c.bundle().certificatesPem).not.toContain(compromisedPem);
    expect(c.signingAuthority().id).toBe(result.activeCa);
    expect(c.distrusted().map((ca) => ca.id)).toEqual([compromised]);
  });

  it('a distrusted prepared CA is never activated: the schedule prepares another', async () => {
    const a = await replica();
    clock.advance(1_800_000); // half-life: the successor is prepared
    await a.rotate({ wait: true, actor: 'system' });
    const prepared = a.authorities().find((ca) => ca.status === 'prepared')!.id;
    await a.distrust({ id: prepared, actor: 'key:admin' });
    // Still past half-life: the same round prepared a fresh successor.
    const next = a.authorities().find((ca) => ca.status === 'prepared')!.id;
    expect(next).not.toBe(prepared);
    clock.advance(1_200_000); // one sixth remains: activation
    await a.rotate({ wait: true, actor: 'system' });
    expect(a.signingAuthority().id).toBe(next);
  });
});

describe('upgrade from the seven-migration schema', () => {
  it('keeps every CA row, its key and the bundle sequence', async () => {
    const db = handles[0]!;
    await migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 7),
    );
    // A CA as the earlier release stored it: the key sealed under its certificate's hash.
    const material = await createCaMaterial(settings, clock, SEALED_ONLY);
    if (material.key.custody.kind !== 'sealed') throw new Error('expected a key in this process');
    const privateKey = material.key.custody.privateKey;
    const der = new X509Certificate(material.certificatePem).raw;
    const aad = `ca-key|${createHash('sha256').update(der).digest('hex')}`;
    const sealed = master.seal(privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer, aad);
    const inserted = await db.query<{ id: string }>(
      `INSERT INTO ca_authorities (status, key_type, cert_pem, sealed_key, not_before, not_after, created_at, activated_at)
       VALUES ('active', 'ec-p256', $1, $2, now(), now() + interval '1 hour', now(), now()) RETURNING id`,
      [material.certificatePem, sealed],
    );
    const id = Number(inserted.rows[0]!.id);
    await db.query('UPDATE bundle_state SET sequence = 41, published = $1', [String(id)]);

    expect(await migrate(db, MIGRATIONS)).toContain(9);
    const ca = await replica();
    expect(ca.signingAuthority().id).toBe(id);
    expect(
      ca
        .signingAuthority()
        .authority.publicKey.export({ format: 'der', type: 'spki' })
        .equals(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })),
    ).toBe(true);
    expect(ca.bundle()).toMatchObject({ sequence: 41, certificatesPem: [material.certificatePem] });
  });
});
