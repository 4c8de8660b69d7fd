// `audit verify` over stored checkpoints: a chain rewritten and re-hashed in SQL, an edited
// checkpoint, a key planted in the table (caught by a JWKS saved out of band), and why database
// access alone cannot sign.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, PgAuditLog, readAuditPage } from '../../src/audit/index.js';
import {
  CHECKPOINT_TYP,
  startAuditCheckpoints,
  type AuditCheckpoints,
  type SignedCheckpoint,
} from '../../src/checkpoint/index.js';
import { MasterKey } from '../../src/crypto/index.js';
import type { Database } from '../../src/db/index.js';
import { runCli } from '../helpers/cli-process.js';
import { createMigratedDatabase } from '../helpers/database.js';
import { appendRows } from '../sink/sink-fixtures.js';
import { ManualClock } from '../doubles/manual-clock.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Signed {
  url: string;
  db: Database;
  master: MasterKey;
  checkpoints: AuditCheckpoints;
  first: SignedCheckpoint;
  second: SignedCheckpoint;
}

function start(db: Database, master: MasterKey, clock: ManualClock): Promise<AuditCheckpoints> {
  return startAuditCheckpoints({
    db,
    master,
    clock,
    audit: new PgAuditLog(db, clock),
    log: quiet,
    metrics: new Registry(),
    trustDomain: 'example.org',
    intervalMs: 60_000,
    keyRotationMs: 30 * 86_400_000,
    tick: false,
  });
}

/** Two checkpoints over 10 + 10 rows, then 5 rows after them. */
async function signedChain(): Promise<Signed> {
  const { url, db } = await createMigratedDatabase();
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const master = new MasterKey(randomBytes(32));
  const audit = new PgAuditLog(db, clock);
  const checkpoints = await start(db, master, clock);
  const sign = async (n: number): Promise<SignedCheckpoint> => {
    await appendRows(audit, n, `r${n}-${clock.now()}`);
    clock.advance(60_000);
    const signed = await checkpoints.checkpointer.round();
    if (signed === undefined) throw new Error('no checkpoint signed');
    return signed;
  };
  const first = await sign(10);
  const second = await sign(10);
  await appendRows(audit, 5, 'tail');
  await audit.settle();
  return { url, db, master, checkpoints, first, second };
}

/** What an attacker with SQL access does: edit row `seq`, then re-hash every row after it. */
async function rewriteFrom(db: Database, seq: number): Promise<void> {
  const rows = await readAuditPage(db, seq - 1, 10_000);
  let prev = rows[0]!.prevHash;
  for (const row of rows) {
    const body = row.seq === seq ? { ...row, target: 'nothing to see' } : row;
    const hash = chainHash(prev, body);
    await db.query('UPDATE audit_log SET target = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [
      row.seq,
      body.target,
      prev,
      hash,
    ]);
    prev = hash;
  }
  await db.query('UPDATE audit_head SET hash = $1', [prev]);
}

describe('audit verify over stored checkpoints', () => {
  let dir: string;
  const chains: Signed[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-stored-checkpoints-'));
  });
  afterAll(async () => {
    for (const c of chains) {
      await c.checkpoints.stop();
      await c.db.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a chain rewritten and re-hashed in SQL at the checkpoint it no longer passes through', async () => {
    const c = await signedChain();
    chains.push(c);
    const env = { DATABASE_URL: c.url };
    const intact = await runCli(['audit', 'verify'], env);
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('checkpoints: 2 stored verified');

    await rewriteFrom(c.db, c.first.seq + 3);
    const rewritten = await runCli(['audit', 'verify'], env);
    // The chain alone is consistent again: only the signed checkpoint shows the rewrite.
    expect(rewritten.stdout).toContain('audit chain intact');
    expect(rewritten.stdout).toContain('checkpoints: 1 stored verified');
    expect(rewritten.code).toBe(1);
    expect(rewritten.stderr).toContain(
      `ERR_AUDIT_CHECKPOINT_INVALID: stored checkpoint at seq ${c.second.seq}: row ${c.second.seq} has another hash (rewritten)`,
    );
  });

  it('fails a stored checkpoint edited in SQL, and one re-signed with a planted key against saved keys', async () => {
    const c = await signedChain();
    chains.push(c);
    const env = { DATABASE_URL: c.url };
    // The JWKS a SOC saved from GET /v1/audit/keys before the attack.
    const saved = path.join(dir, 'keys.json');
    await writeFile(saved, JSON.stringify(c.checkpoints.keyring.jwks()));

    // Moving the checkpoint back with the head: the statement no longer matches its columns.
    await c.db.query('UPDATE audit_checkpoints SET hash = $2 WHERE seq = $1', [
      c.first.seq,
      'f'.repeat(64),
    ]);
    const edited = await runCli(['audit', 'verify'], env);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain(
      `ERR_AUDIT_CHECKPOINT_INVALID: stored checkpoint at seq ${c.first.seq}: its columns differ`,
    );
    await c.db.query('UPDATE audit_checkpoints SET hash = $2 WHERE seq = $1', [
      c.first.seq,
      c.first.hash,
    ]);

    // An attacker who cannot unseal the key plants one of their own, rewrites the chain and
    // re-signs every checkpoint: the database now vouches for itself...
    await rewriteFrom(c.db, 2);
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = 'planted';
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    await c.db.query(
      `INSERT INTO audit_checkpoint_keys (kid, status, public_jwk, created_at, retired_at)
       VALUES ($1, 'retired', $2, now(), now())`,
      [kid, JSON.stringify(jwk)],
    );
    const stored = await c.db.query<{ seq: string; time: Date }>(
      'SELECT seq, time FROM audit_checkpoints ORDER BY seq',
    );
    for (const row of stored.rows) {
      const seq = Number(row.seq);
      const hash = (await readAuditPage(c.db, seq - 1, 1))[0]!.hash;
      const statement = {
        v: 1,
        trust_domain: 'example.org',
        seq,
        hash,
        time: row.time.toISOString(),
        kid,
      };
      const jws = await new CompactSign(Buffer.from(JSON.stringify(statement)))
        .setProtectedHeader({ alg: 'ES256', typ: CHECKPOINT_TYP, kid })
        .sign(privateKey);
      await c.db.query(
        'UPDATE audit_checkpoints SET hash = $2, kid = $3, jws = $4 WHERE seq = $1',
        [seq, hash, kid, jws],
      );
    }
    // ...but not to the keys saved out of band.
    const pinned = await runCli(['audit', 'verify', '--keys', saved], env);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain('checkpoints: 0 stored verified');
    for (const checkpoint of [c.first, c.second]) {
      expect(pinned.stderr).toContain(
        `ERR_AUDIT_CHECKPOINT_INVALID: stored checkpoint at seq ${checkpoint.seq}:`,
      );
    }
  });

  it('cannot sign with database access alone: the key is sealed under the master key', async () => {
    const c = await signedChain();
    chains.push(c);
    const sealed = await c.db.query<{ sealed: Buffer; jwk: Record<string, unknown> }>(
      "SELECT sealed_private_key AS sealed, public_jwk AS jwk FROM audit_checkpoint_keys WHERE status = 'active'",
    );
    expect(sealed.rows).toHaveLength(1);
    expect(sealed.rows[0]!.jwk).not.toHaveProperty('d');
    expect(sealed.rows[0]!.sealed.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    // A process with the database but another master key signs nothing.
    const clock = new ManualClock(Date.UTC(2026, 6, 1));
    let other: AuditCheckpoints | undefined;
    const signedByOther = async (): Promise<unknown> => {
      other = await start(c.db, new MasterKey(randomBytes(32)), clock);
      return other.checkpointer.round();
    };
    await expect(signedByOther()).rejects.toMatchObject({ code: 'ERR_CRYPTO_OPEN_FAILED' });
    await other?.stop();
    const count = await c.db.query<{ n: string }>('SELECT count(*) AS n FROM audit_checkpoints');
    expect(Number(count.rows[0]!.n)).toBe(2);
  });
});
