// Persistence of signing keys: rows of token_signing_keys, private keys sealed under the master key.
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { MasterKey } from '../crypto/index.js';
import type { Queryable } from '../db/index.js';
import { openSigningKey, sealSigningKey, type SigningKeyMaterial } from './signing-key.js';
import type { SigningKeySlot, SigningKeyStatus } from './signing-key-schedule.js';

/** A signing key loaded from PostgreSQL. Retired keys have no private key any more. */
export interface StoredSigningKey extends SigningKeySlot {
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject | undefined;
}

interface SigningKeyRow {
  kid: string;
  status: SigningKeyStatus;
  public_jwk: JWK;
  sealed_private_key: Buffer | null;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

function fromRow(row: SigningKeyRow, master: MasterKey): StoredSigningKey {
  return {
    kid: row.kid,
    status: row.status,
    publicJwk: row.public_jwk,
    privateKey:
      row.sealed_private_key === null
        ? undefined
        : openSigningKey(master, row.kid, row.sealed_private_key),
    createdAt: row.created_at.getTime(),
    activatedAt: row.activated_at?.getTime(),
    retiredAt: row.retired_at?.getTime(),
  };
}

const COLUMNS = 'kid, status, public_jwk, sealed_private_key, created_at, activated_at, retired_at';

/** Every stored signing key, oldest first. */
export async function loadSigningKeys(
  db: Queryable,
  master: MasterKey,
): Promise<StoredSigningKey[]> {
  const result = await db.query<SigningKeyRow>(
    `SELECT ${COLUMNS} FROM token_signing_keys ORDER BY created_at, kid`,
  );
  return result.rows.map((row) => fromRow(row, master));
}

/** Stores a new key as `prepared` or, at bootstrap, directly `active`. */
export async function insertSigningKey(
  db: Queryable,
  master: MasterKey,
  material: SigningKeyMaterial,
  status: 'prepared' | 'active',
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO token_signing_keys (kid, status, public_jwk, sealed_private_key, created_at, activated_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      material.kid,
      status,
      JSON.stringify(material.publicJwk),
      sealSigningKey(master, material),
      new Date(now),
      status === 'active' ? new Date(now) : null,
    ],
  );
}

/**
 * Retires the active key (wiping its private key: it will only verify from now on) and
 * activates the prepared key `kid`, in that order so the one-active index always holds.
 */
export async function activateSigningKey(db: Queryable, kid: string, now: number): Promise<void> {
  const at = new Date(now);
  await db.query(
    `UPDATE token_signing_keys SET status = 'retired', retired_at = $1, sealed_private_key = NULL
     WHERE status = 'active'`,
    [at],
  );
  await db.query(
    `UPDATE token_signing_keys SET status = 'active', activated_at = $2
     WHERE kid = $1 AND status = 'prepared'`,
    [kid, at],
  );
}

/** Deletes retired keys whose tokens have all expired. */
export async function dropSigningKeys(db: Queryable, kids: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM token_signing_keys WHERE status = 'retired' AND kid = ANY($1)`, [
    [...kids],
  ]);
}
