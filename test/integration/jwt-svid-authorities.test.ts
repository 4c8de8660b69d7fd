// JWT authorities on PostgreSQL: one key for many replicas, publish-before-sign rotation, NOTIFY.
import { createPublicKey, randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleDocument } from '../../src/ca/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import { verifiesFor } from '../../src/keyring/index.js';
import { Database } from '../../src/db/index.js';
import {
  JwtAuthorityKeyring,
  JwtSvidIssuer,
  validateJwtSvid,
  type JwtAuthoritySettings,
} from '../../src/jwtsvid/index.js';
import { openJwtAuthority } from '../../src/jwtsvid/jwt-authority-key.js';
import { parseSpiffeId } from '../../src/spiffe/index.js';
import { eventually } from '../fixtures/authn/mtls-client.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { MemoryAuditLog } from '../doubles/memory-audit-log.js';
import { ManualClock } from '../doubles/manual-clock.js';
import { NO_ERROR, codeOf } from '../helpers/error-code.js';

const TD = 'hallmark.local';
const ID = parseSpiffeId(`spiffe://${TD}/ns/payments/sa/api`);
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

let url: string;
let handles: Database[];
let rings: JwtAuthorityKeyring[];
let clock: ManualClock;
let master: MasterKey;
let audit: MemoryAuditLog;

/** One more server process with its own pool; the hook moves spiffe_sequence as the lead wires it. */
async function replica(): Promise<JwtAuthorityKeyring> {
  const db = new Database(url, { max: 4 });
  handles.push(db);
  const ring = await JwtAuthorityKeyring.start(
    {
      db,
      master,
      clock,
      audit,
      log: { info: () => undefined, warn: () => undefined },
      onPublishedSetChange: async (client) => {
        await client.query('UPDATE bundle_state SET sequence = sequence + 1');
      },
    },
    settings,
  );
  rings.push(ring);
  return ring;
}

async function sequence(): Promise<number> {
  const rows = await handles[0]!.query<{ sequence: string }>('SELECT sequence FROM bundle_state');
  return Number(rows.rows[0]!.sequence);
}

function issuerOn(ring: JwtAuthorityKeyring): JwtSvidIssuer {
  return new JwtSvidIssuer(ring, clock, { trustDomain: TD, ttlMs: TTL });
}

async function issue(ring: JwtAuthorityKeyring): Promise<string> {
  const issued = await issuerOn(ring).issue({
    spiffeId: ID,
    audience: ['svc'],
    notAfter: new Date(clock.now() + HOUR),
  });
  return issued.token;
}

/** Validation as a relying party holding `ring`'s published bundle would do it. */
function codeOn(ring: JwtAuthorityKeyring, token: string): Promise<string> {
  return codeOf(
    validateJwtSvid(token, {
      bundleJwks: bundleDocument(
        { certificatesPem: [], sequence: 0, refreshHintSeconds: 300 },
        ring.bundleJwks(),
      ).keys,
      audience: 'svc',
      trustDomain: TD,
      clock,
      leewayMs: 0,
    }),
  );
}

function kids(ring: JwtAuthorityKeyring): string[] {
  return ring.bundleJwks().map((jwk) => jwk.kid as string);
}

function actions(name: string): number {
  return audit.records.filter((record) => record.action === name).length;
}

beforeEach(async () => {
  const created = await createMigratedDatabase();
  url = created.url;
  handles = [created.db];
  rings = [];
  clock = new ManualClock(Date.UTC(2026, 2, 1));
  master = new MasterKey(randomBytes(32));
  audit = new MemoryAuditLog(clock);
});

afterEach(async () => {
  for (const ring of rings) ring.stop();
  for (const db of handles) await db.close();
});

describe('JWT authorities across replicas', () => {
  it('replicas starting together create exactly one active authority and sign with it', async () => {
    const started = await Promise.all([replica(), replica(), replica()]);
    const rows = await handles[0]!.query<{ status: string; alg: string }>(
      'SELECT status, alg FROM jwt_authority_keys',
    );
    expect(rows.rows).toEqual([{ status: 'active', alg: 'ES256' }]);
    expect(new Set(started.map((ring) => ring.signingAuthority().kid)).size).toBe(1);
    expect(actions('jwt_authority.created')).toBe(1);
    expect(await sequence()).toBe(1);
  });

  it('publishes kid and use: jwt-svid for each authority, and keeps private keys sealed', async () => {
    const ring = await replica();
    const bundle = bundleDocument(
      { certificatesPem: [], sequence: 1, refreshHintSeconds: 300 },
      ring.bundleJwks(),
    );
    expect(bundle.keys).toHaveLength(1);
    expect(bundle.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      use: 'jwt-svid',
      kid: ring.signingAuthority().kid,
    });
    const { kid, alg, signer } = ring.signingAuthority();
    const row = await handles[0]!.query<{ sealed_private_key: Buffer; public_jwk: object }>(
      'SELECT sealed_private_key, public_jwk FROM jwt_authority_keys',
    );
    // The signing key is the one sealed in the row (opened only here, to know what to look for).
    const privateKey = openJwtAuthority(master, kid, alg, row.rows[0]!.sealed_private_key);
    expect(createPublicKey(privateKey).equals(signer.publicKey)).toBe(true);
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
    expect(row.rows[0]!.sealed_private_key.includes(der)).toBe(false);
    expect(row.rows[0]!.sealed_private_key.includes(d)).toBe(false);
    expect(JSON.stringify(row.rows[0]!.public_jwk)).not.toContain('"d"');
  });

  it('a token from one replica validates against the bundle of another, and with jose', async () => {
    const a = await replica();
    const b = await replica();
    const token = await issue(a);
    expect(await codeOn(b, token)).toBe(NO_ERROR);
    const jwks = createLocalJWKSet({
      keys: b.bundleJwks().map((jwk) => ({ ...jwk, use: 'sig' })),
    });
    const { payload } = await jwtVerify(token, jwks, {
      audience: 'svc',
      currentDate: new Date(clock.now()),
    });
    expect(payload.sub).toBe(ID.toString());
  });

  it('rotates: prepared key published first, old tokens valid until they expire, then dropped', async () => {
    const a = await replica();
    const b = await replica();
    const changes: number[] = [];
    b.onChange(() => changes.push(clock.now()));
    const first = a.signingAuthority().kid;
    expect(await sequence()).toBe(1);

    // Half a period: the successor is prepared and published, but nobody signs with it yet.
    clock.advance(12 * HOUR);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    const prepared = a.authorities().find((authority) => authority.status === 'prepared')!.kid;
    expect(await eventually(() => kids(b).includes(prepared))).toBe(true);
    expect(changes.length).toBeGreaterThan(0);
    expect(kids(a)).toEqual([first, prepared]);
    expect(a.signingAuthority().kid).toBe(first);
    expect(b.signingAuthority().kid).toBe(first);
    expect(decodeProtectedHeader(await issue(b)).kid).toBe(first);
    expect(await sequence()).toBe(2);

    // Not yet due: nothing happens, however often replicas look.
    clock.advance(12 * HOUR - 1_000);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(false);

    clock.advance(1_000);
    const old = await issue(b); // signed by the first key a moment before it retires
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(a.signingAuthority().kid).toBe(prepared);
    expect(await eventually(() => b.signingAuthority().kid === prepared)).toBe(true);
    expect(decodeProtectedHeader(await issue(b)).kid).toBe(prepared);
    // Activation moves the signing role only: same published keys, same sequence.
    expect(await sequence()).toBe(2);
    expect(kids(b)).toEqual([first, prepared]);
    const retired = await handles[0]!.query<{ sealed_private_key: Buffer | null }>(
      'SELECT sealed_private_key FROM jwt_authority_keys WHERE kid = $1',
      [first],
    );
    expect(retired.rows[0]!.sealed_private_key).toBeNull();

    // The old token keeps validating on every replica until its own expiry.
    clock.advance(TTL - 1_000);
    expect(await codeOn(a, old)).toBe(NO_ERROR);
    expect(await codeOn(b, old)).toBe(NO_ERROR);
    clock.advance(1_000);
    expect(await codeOn(b, old)).toBe('ERR_JWTSVID_EXPIRED');

    // The retired key is dropped once nothing it signed can be accepted any more.
    clock.set(Date.UTC(2026, 2, 1) + 24 * HOUR + RETENTION - 1_000);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(false);
    expect(kids(b)).toContain(first);
    clock.advance(1_000);
    expect(await a.rotate({ wait: false, actor: 'system' })).toBe(true);
    expect(await eventually(() => !kids(b).includes(first))).toBe(true);
    expect(await codeOn(b, old)).toBe('ERR_JWTSVID_AUTHORITY_UNKNOWN');
    expect(await sequence()).toBe(3);
    expect(actions('jwt_authority.prepared')).toBe(1);
    expect(actions('jwt_authority.activated')).toBe(1);
    expect(actions('jwt_authority.dropped')).toBe(1);
  });

  it('two replicas checking at the same moment rotate once', async () => {
    const a = await replica();
    const b = await replica();
    clock.advance(12 * HOUR);
    const results = await Promise.all([
      a.rotate({ wait: false, actor: 'system' }),
      b.rotate({ wait: false, actor: 'system' }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const rows = await handles[0]!.query<{ status: string }>(
      'SELECT status FROM jwt_authority_keys ORDER BY created_at',
    );
    expect(rows.rows.map((row) => row.status)).toEqual(['active', 'prepared']);
    expect(actions('jwt_authority.prepared')).toBe(1);
    expect(await sequence()).toBe(2);
  });

  it('a restarted replica loads the stored authorities instead of making new ones', async () => {
    const a = await replica();
    const kid = a.signingAuthority().kid;
    a.stop();
    const again = await replica();
    expect(again.signingAuthority().kid).toBe(kid);
    // The same private key: what the restarted replica signs verifies under the first's key.
    const data = Buffer.from('restart');
    const signature = await again.signingAuthority().signer.sign(data);
    expect(verifiesFor(a.signingAuthority().signer.publicKey, data, signature)).toBe(true);
    expect(actions('jwt_authority.created')).toBe(1);
  });

  it('signs with the configured algorithm; existing keys keep theirs', async () => {
    const a = await replica();
    expect(a.signingAuthority().alg).toBe('ES256');
    const db = new Database(url, { max: 2 });
    handles.push(db);
    const ps = await JwtAuthorityKeyring.start(
      { db, master, clock, audit, log: { info: () => undefined, warn: () => undefined } },
      { ...settings, algorithm: 'PS256' },
    );
    rings.push(ps);
    expect(ps.signingAuthority().alg).toBe('ES256');
    clock.advance(12 * HOUR);
    await ps.rotate({ wait: false, actor: 'system' });
    clock.advance(12 * HOUR);
    await ps.rotate({ wait: false, actor: 'system' });
    expect(ps.signingAuthority().alg).toBe('PS256');
    const token = await issue(ps);
    expect(decodeProtectedHeader(token).alg).toBe('PS256');
    expect(await eventually(async () => (await codeOn(a, token)) === NO_ERROR)).toBe(true);
    expect(ps.bundleJwks().map((jwk) => jwk.kty)).toEqual(['EC', 'RSA']);
  });
});
