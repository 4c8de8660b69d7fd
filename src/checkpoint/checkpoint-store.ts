// The checkpoint tables in SQL: insert, read after a seq, the latest one, the public keys, the base.
import type { JSONWebKeySet, JWK } from 'jose';
import { readAuditHead } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import type { SignedCheckpoint } from './checkpoint-statement.js';

interface CheckpointRow {
  seq: string;
  hash: string;
  time: Date;
  kid: string;
  jws: string;
}

function toCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return {
    seq: Number(row.seq),
    hash: row.hash,
    time: row.time.toISOString(),
    kid: row.kid,
    jws: row.jws,
  };
}

/** Stores a checkpoint. */
export async function insertCheckpoint(db: Queryable, checkpoint: SignedCheckpoint): Promise<void> {
  await db.query(
    'INSERT INTO audit_checkpoints (seq, hash, time, kid, jws) VALUES ($1, $2, $3, $4, $5)',
    [checkpoint.seq, checkpoint.hash, new Date(checkpoint.time), checkpoint.kid, checkpoint.jws],
  );
}

/** Checkpoints with `after < seq <= upTo`, oldest first, at most `limit`. */
export async function readCheckpoints(
  db: Queryable,
  after: number,
  limit: number,
  upTo = Number.MAX_SAFE_INTEGER,
): Promise<SignedCheckpoint[]> {
  const result = await db.query<CheckpointRow>(
    'SELECT seq, hash, time, kid, jws FROM audit_checkpoints WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
    [after, upTo, limit],
  );
  return result.rows.map(toCheckpoint);
}

/** The newest checkpoint, if any. */
export async function latestCheckpoint(db: Queryable): Promise<SignedCheckpoint | undefined> {
  const result = await db.query<CheckpointRow>(
    'SELECT seq, hash, time, kid, jws FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toCheckpoint(row);
}

/** The checkpoint at exactly `seq`, if one is stored. */
export async function checkpointAt(
  db: Queryable,
  seq: number,
): Promise<SignedCheckpoint | undefined> {
  const result = await db.query<CheckpointRow>(
    'SELECT seq, hash, time, kid, jws FROM audit_checkpoints WHERE seq = $1',
    [seq],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : toCheckpoint(row);
}

/**
 * Every stored checkpoint public key but distrusted ones, read straight from the table: what a
 * verifier without the server (or the master key) checks signatures against.
 */
export async function storedCheckpointKeys(db: Queryable): Promise<JSONWebKeySet> {
  const result = await db.query<{ public_jwk: JWK }>(
    "SELECT public_jwk FROM audit_checkpoint_keys WHERE status <> 'distrusted' ORDER BY created_at, kid",
  );
  return { keys: result.rows.map((row) => row.public_jwk) };
}

/** Where the retained chain starts: after an archive, its last row; otherwise undefined (genesis). */
export async function readBase(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  const result = await db.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_base');
  const row = result.rows[0];
  return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash };
}

/** The chain head as stored (seq 0 while the chain is empty). */
export async function readHead(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  return readAuditHead(db);
}

/** True when migration 13 has run (a verifier may meet a database of an earlier release). */
export async function hasCheckpointTables(db: Queryable): Promise<boolean> {
  const result = await db.query<{ ok: boolean }>(
    "SELECT to_regclass('audit_checkpoints') IS NOT NULL AS ok",
  );
  return result.rows[0]?.ok === true;
}
