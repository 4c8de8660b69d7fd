// Several server processes on one database: shared signing keys, rotation, revocation by NOTIFY.
import { createPublicKey, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Authentication,
  revokeIdentity,
  type AuthenticationSettings,
} from '../../src/authn/index.js';
import { openSigningKey } from '../../src/authn/signing-key.js';
import { MasterKey } from '../../src/crypto/index.js';
import { Database } from '../../src/db/index.js';
import { MemoryPods } from '../fixtures/authn/memory-keys.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { codeOf, NO_ERROR } from '../helpers/error-code.js';

const HOUR = 3_600_000;
const TTL = 8 * 60_000;
const settings: AuthenticationSettings = {
  issuer: 'https://hallmark.test',
  trustDomain: 'hallmark.local',
  tokenTtlMs: TTL,
  rotationPeriodMs: 24 * HOUR,
  reloadIntervalMs: 30_000,
  tick: false,
};

let url: string;
let handles: Database[];
let services: Authentication[];
let clock: ManualClock;
let master: MasterKey;
let audit: MemoryAuditLog;

/** One more server process: its own pool and NOTIFY listener on the shared database. */
async function replica(): Promise<Authentication> {
  const db = new Database(url, { max: 4 });
  handles.push(db);
  const service = await Authentication.start(
    {
      db,
      master,
      clock,
      audit,
      log: { info: () => undefined, warn: () => undefined },
      pods: new MemoryPods(),
      registrationCheck: () => true,
      bundle: () => [],
    },
    settings,
  );
  services.push(service);
  return service;
}

/** The code `service` refuses `token` with, or NO_ERROR when it accepts it. */
function verdictOf(service: Authentication, token: string): Promise<string> {
  return codeOf(service.verifier.verify(token));
}

async function appToken(service: Authentication, identity = 'key:app-1'): Promise<string> {
  return (await service.issuer.issue({ identity, role: 'app' })).token;
}

beforeEach(async () => {
  const created = await createMigratedDatabase();
  url = created.url;
  handles = [created.db];
  services = [];
  clock = new ManualClock(Date.UTC(2026, 2, 1));
  master = new MasterKey(randomBytes(32));
  audit = new MemoryAuditLog(clock);
});

afterEach(async () => {
  for (const service of services) service.stop();
  for (const db of handles) await db.close();
});

describe('signing keys across replicas', () => {
  it('replicas starting together create exactly one active key and sign with it', async () => {
    const [a, b, c] = await Promise.all([replica(), replica(), replica()]);
    const rows = await handles[0]!.query<{ status: string }>(
      'SELECT status FROM token_signing_keys',
    );
    expect(rows.rows).toEqual([{ status: 'active' }]);
    const kids = [a, b, c].map((s) => s!.keyring.signingKey().kid);
    expect(new Set(kids).size).toBe(1);
    expect(audit.records.filter((r) => r.action === 'token_key.activated')).toHaveLength(1);
  });

  it('stores private keys sealed: no key material in the table', async () => {
    const a = await replica();
    const { kid, signer } = a.keyring.signingKey();
    const row = await handles[0]!.query<{ sealed_private_key: Buffer; public_jwk: object }>(
      'SELECT sealed_private_key, public_jwk FROM token_signing_keys',
    );
    const sealed = row.rows[0]!.sealed_private_key;
    // The signing key is the one sealed in the row (opened only here, to know what to look for).
    const privateKey = openSigningKey(master, kid, sealed);
    expect(createPublicKey(privateKey).equals(signer.publicKey)).toBe(true);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    expect(sealed.includes(der)).toBe(false);
    expect(sealed.includes(d)).toBe(false);
    expect(JSON.stringify(row.rows[0]!.public_jwk)).not.toContain('"d"');
  });

  it('a second replica accepts tokens from the first', async () => {
    const a = await replica();
    const b = await replica();
    const token = await appToken(a);
    expect(await verdictOf(b, token)).toBe(NO_ERROR);
    expect(await verdictOf(b, `${token.slice(0, -2)}AA`)).toBe('ERR_AUTHN_TOKEN_INVALID');
  });

  it('rotates on schedule: successor published first, tokens survive rotation until they expire', async () => {
    const a = await replica();
    const b = await replica();
    const first = a.keyring.signingKey().kid;
    clock.advance(12 * HOUR);
    const early = await appToken(a);
    expect(await a.keyring.rotate({ wait: false, actor: 'system' })).toBe(true);
    const prepared = (
      await handles[0]!.query<{ kid: string }>(
        "SELECT kid FROM token_signing_keys WHERE status = 'prepared'",
      )
    ).rows[0]!.kid;
    // B learns the prepared key through NOTIFY before it signs anything.
    expect(await eventually(() => b.keyring.publicJwks().some((jwk) => jwk.kid === prepared))).toBe(
      true,
    );
    expect(a.keyring.signingKey().kid).toBe(first);

    clock.advance(12 * HOUR);
    const old = await appToken(a);
    expect(await a.keyring.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(a.keyring.signingKey().kid).toBe(prepared);
    const fresh = await appToken(a);
    expect(decodeProtectedHeader(fresh).kid).toBe(prepared);
    expect(await verdictOf(b, fresh)).toBe(NO_ERROR);
    // Signed by the retired key, still within its lifetime: valid on both replicas.
    expect(await verdictOf(a, old)).toBe(NO_ERROR);
    expect(await verdictOf(b, old)).toBe(NO_ERROR);
    expect(await verdictOf(a, early)).toBe('ERR_AUTHN_TOKEN_INVALID'); // expired long ago

    // The retired key's private half is gone; its public half stays until its tokens expire.
    const retired = await handles[0]!.query<{ sealed_private_key: Buffer | null }>(
      'SELECT sealed_private_key FROM token_signing_keys WHERE kid = $1',
      [first],
    );
    expect(retired.rows[0]?.sealed_private_key).toBeNull();
    clock.advance(TTL + 5_000 + 1);
    expect(await verdictOf(b, old)).toBe('ERR_AUTHN_TOKEN_INVALID');
    clock.advance(30_000);
    expect(await a.keyring.rotate({ wait: false, actor: 'system' })).toBe(true);
    const kids = (
      await handles[0]!.query<{ kid: string }>('SELECT kid FROM token_signing_keys')
    ).rows.map((r) => r.kid);
    expect(kids).toEqual([prepared]);
    expect(audit.records.map((r) => r.action)).toEqual([
      'token_key.activated',
      'token_key.prepared',
      'token_key.activated',
      'token_key.dropped',
    ]);
  });

  it('only one replica rotates when several try at once', async () => {
    const replicas = await Promise.all([replica(), replica(), replica()]);
    clock.advance(12 * HOUR);
    const results = await Promise.all(
      replicas.map((r) => r.keyring.rotate({ wait: false, actor: 'system' })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const rows = await handles[0]!.query<{ status: string }>(
      'SELECT status FROM token_signing_keys ORDER BY status',
    );
    expect(rows.rows.map((r) => r.status)).toEqual(['active', 'prepared']);
  });

  it('a forced rotation elsewhere is picked up on the first unknown kid', async () => {
    const a = await replica();
    const b = await replica();
    b.stop(); // no NOTIFY: B must find the new key by itself
    await a.keyring.rotate({ wait: true, force: true, actor: 'key:admin' });
    expect(await verdictOf(b, await appToken(a))).toBe(NO_ERROR);
  });
});

describe('revocation across replicas', () => {
  it('revoking an API key fails its existing tokens at once here and by NOTIFY elsewhere', async () => {
    const a = await replica();
    const b = await replica();
    const key = await a.createApiKey({ id: 'app-1', role: 'app' });
    const { token } = await a.loginApiKey('app-1', key);
    expect(await verdictOf(b, token.token)).toBe(NO_ERROR);
    clock.advance(1_000);
    expect(await a.revokeApiKey('app-1', 'key:admin')).toBe(true);
    expect(await verdictOf(a, token.token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
    expect(
      await eventually(async () => (await verdictOf(b, token.token)) === 'ERR_AUTHN_TOKEN_REVOKED'),
    ).toBe(true);
    await expect(b.loginApiKey('app-1', key)).rejects.toMatchObject({
      code: 'ERR_AUTHN_API_KEY_INVALID',
    });
    expect(await a.revokeApiKey('no-such-key', 'key:admin')).toBe(false);
    const keyRows = audit.records.filter((r) => r.action.startsWith('authn.api_key.'));
    expect(keyRows.map((r) => [r.actor, r.action, r.target])).toEqual([
      ['system', 'authn.api_key.created', 'key:app-1 role=app'],
      ['key:admin', 'authn.api_key.revoked', 'key:app-1'],
    ]);
  });

  it('creates no API key when its audit row cannot be written', async () => {
    const a = await replica();
    audit.failing = true;
    await expect(a.createApiKey({ id: 'app-unaudited', role: 'app' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
    });
    audit.failing = false;
    await expect(a.loginApiKey('app-unaudited', 'any')).rejects.toMatchObject({
      code: 'ERR_AUTHN_API_KEY_INVALID',
    });
    // The id was never taken: creating it now succeeds.
    await expect(a.createApiKey({ id: 'app-unaudited', role: 'app' })).resolves.toBeTypeOf(
      'string',
    );
  });

  it("a revocation inside a caller's transaction reaches every replica at commit", async () => {
    const a = await replica();
    const b = await replica();
    const identity = 'spiffe://hallmark.local/ns/payments/sa/api';
    const token = (await a.issuer.issue({ identity, role: 'workload' })).token;
    clock.advance(1_000);
    await handles[0]!.transaction((client) =>
      revokeIdentity(client, identity, 'osb:unbind', clock.now()),
    );
    for (const service of [a, b]) {
      expect(
        await eventually(
          async () => (await verdictOf(service, token)) === 'ERR_AUTHN_TOKEN_REVOKED',
        ),
      ).toBe(true);
    }
    // Tokens issued after the revocation work again (a re-bound workload).
    clock.advance(1_000);
    expect(await verdictOf(b, (await a.issuer.issue({ identity, role: 'workload' })).token)).toBe(
      NO_ERROR,
    );
  });

  it('a replica whose listener reconnects reloads the revocations it missed', async () => {
    const b = await replica();
    const a = await replica();
    const token = await appToken(a, 'key:app-9');
    clock.advance(1_000);
    // Kill every LISTEN connection, then revoke without NOTIFY: only the reload can tell B.
    await handles[0]!.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    await handles[0]!.query(
      'INSERT INTO revocations (identity, revoked_at, actor) VALUES ($1, $2, $3)',
      ['key:app-9', new Date(clock.now()), 'test'],
    );
    expect(
      await eventually(
        async () => (await verdictOf(b, token)) === 'ERR_AUTHN_TOKEN_REVOKED',
        10_000,
      ),
    ).toBe(true);
  });

  it('a replica started later loads revocations still in force, not expired ones', async () => {
    const a = await replica();
    await a.createApiKey({ id: 'app-5', role: 'app' });
    const token = await appToken(a, 'key:app-5');
    clock.advance(1_000);
    // Revocation is a state change: it happens only through an audited path.
    expect(await a.revokeApiKey('app-5', 'key:admin')).toBe(true);
    expect(audit.records.filter((r) => r.action === 'authn.api_key.revoked')).toMatchObject([
      { target: 'key:app-5', actor: 'key:admin' },
    ]);
    const b = await replica();
    expect(await verdictOf(b, token)).toBe('ERR_AUTHN_TOKEN_REVOKED');
  });
});
