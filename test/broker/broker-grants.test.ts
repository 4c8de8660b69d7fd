// Broker grants across replicas: NOTIFY, listener reconnect, a bad row, and failing closed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { announceGrantChange, BrokerGrants } from '../../broker/index.js';
import { Database, type Queryable } from '../../src/db/index.js';
import { canAccess, emptyPolicy } from '../../src/policy/index.js';
import { parseSecretPath } from '../../src/secrets/index.js';
import { createMigratedDatabase } from '../helpers/database.js';

const TD = 'hallmark.local';
const policy = emptyPolicy({ trustDomain: TD, maxTtlSeconds: 86_400 });
const API = `spiffe://${TD}/ns/payments/sa/api`;

let url: string;
let db: Database;
const opened: { close(): void }[] = [];
const handles: Database[] = [];

beforeAll(async () => {
  ({ url, db } = await createMigratedDatabase());
});
afterAll(async () => {
  for (const grants of opened) grants.close();
  for (const handle of handles) await handle.close();
  await db?.close();
});

async function replica(handle: Database = db): Promise<BrokerGrants> {
  const grants = await BrokerGrants.open(handle, { trustDomain: TD, pollMs: 0 });
  opened.push(grants);
  return grants;
}

/** Writes an instance with one binding to `identity`, as bind does, announcing the change. */
async function bindRow(identity: string, options: { announce?: boolean } = {}): Promise<string> {
  const instanceId = randomUUID();
  await db.transaction(async (tx: Queryable) => {
    await tx.query(
      `INSERT INTO osb_instances (instance_id, service_id, plan_id, attributes, created_at, created_by, updated_at)
       VALUES ($1, 's', 'p', '{}', now(), 'test', now())`,
      [instanceId],
    );
    const apiKeyId = identity.startsWith('key:') ? identity.slice(4) : null;
    await tx.query(
      `INSERT INTO osb_bindings (binding_id, instance_id, kind, identity, api_key_id, attributes, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, '{}', now(), 'test')`,
      [randomUUID(), instanceId, apiKeyId === null ? 'workload' : 'api_key', identity, apiKeyId],
    );
    if (options.announce !== false) await announceGrantChange(tx);
  });
  return instanceId;
}

const reads = (grants: BrokerGrants, identity: string, instanceId: string): boolean =>
  canAccess(policy, identity, 'read', parseSecretPath(`osb/${instanceId}/x`), grants.current());

describe('BrokerGrants', () => {
  it('grants read below the instance scope only, to the bound identity only', async () => {
    const grants = await replica();
    const instanceId = await bindRow(API);
    await grants.reload();
    expect(reads(grants, API, instanceId)).toBe(true);
    expect(
      canAccess(policy, API, 'read', parseSecretPath(`osb/${instanceId}/a/b`), grants.current()),
    ).toBe(true);
    expect(
      canAccess(policy, API, 'write', parseSecretPath(`osb/${instanceId}/x`), grants.current()),
    ).toBe(false);
    expect(
      canAccess(policy, API, 'read', parseSecretPath(`osb/${instanceId}`), grants.current()),
    ).toBe(false);
    expect(
      canAccess(
        policy,
        API,
        'read',
        parseSecretPath(`osb/${instanceId}-other/x`),
        grants.current(),
      ),
    ).toBe(false);
    expect(reads(grants, `spiffe://${TD}/ns/payments/sa/worker`, instanceId)).toBe(false);
    expect(reads(grants, `key:${API}`, instanceId)).toBe(false);
  });

  it('another replica follows by NOTIFY', async () => {
    const other = await replica();
    const before = other.version();
    const instanceId = await bindRow('key:osb-replica.0123456789ab');
    await vi.waitFor(() => expect(other.version()).toBeGreaterThan(before), {
      timeout: 10_000,
      interval: 20,
    });
    expect(reads(other, 'key:osb-replica.0123456789ab', instanceId)).toBe(true);
  });

  it('reloads after its notification connection was lost (changes made meanwhile are not missed)', async () => {
    const handle = new Database(url, { max: 2 });
    handles.push(handle);
    const other = await replica(handle);
    // A change this replica is never told about (no NOTIFY), made before its connection drops.
    const instanceId = await bindRow(API, { announce: false });
    await db.query('UPDATE osb_grant_version SET version = version + 1');
    expect(reads(other, API, instanceId)).toBe(false);
    const killed = await db.query<{ n: string }>(
      `SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
    );
    expect(Number(killed.rows[0]?.n)).toBeGreaterThan(0);
    await vi.waitFor(() => expect(reads(other, API, instanceId)).toBe(true), {
      timeout: 15_000,
      interval: 50,
    });
  });

  it('a binding it cannot compile (another trust domain) is left out, the others stay in force', async () => {
    const grants = await replica();
    const good = await bindRow(API);
    const bad = await bindRow('spiffe://other.example/ns/payments/sa/api');
    await grants.reload();
    expect(reads(grants, API, good)).toBe(true);
    expect(reads(grants, 'spiffe://other.example/ns/payments/sa/api', bad)).toBe(false);
    await db.query("DELETE FROM osb_bindings WHERE identity LIKE 'spiffe://other.example/%'");
  });

  it('fails closed: when the database cannot be read, no broker grant is in force', async () => {
    const handle = new Database(url, { max: 2 });
    const grants = await replica(handle);
    const instanceId = await bindRow(API);
    await grants.reload();
    expect(reads(grants, API, instanceId)).toBe(true);
    await handle.close();
    await grants.reload();
    expect(grants.version()).toBe(-1);
    expect(reads(grants, API, instanceId)).toBe(false);
  });
});
