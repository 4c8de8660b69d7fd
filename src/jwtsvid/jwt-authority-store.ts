// Persistence of JWT authorities: rows of jwt_authority_keys, private keys sealed under the master key.
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { KeySlot, KeyStatus } from '../keyring/index.js';
import type { BundleJwk } from '../ca/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { Queryable } from '../db/index.js';
import { HallmarkError } from '../errors/index.js';
import {
  bundleJwkOf,
  openJwtAuthority,
  sealJwtAuthority,
  type JwtAuthorityMaterial,
} from './jwt-authority-key.js';
import { isJwtSvidAlgorithm, type JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** A JWT authority loaded from PostgreSQL. Retired authorities have no private key any more. */
export interface StoredJwtAuthority extends KeySlot {
  readonly alg: JwtSvidAlgorithm;
  readonly bundleJwk: BundleJwk;
  readonly privateKey: KeyObject | undefined;
}

interface JwtAuthorityRow {
  kid: string;
  alg: string;
  status: KeyStatus;
  public_jwk: JWK;
  sealed_private_key: Buffer | null;
  created_at: Date;
  activated_at: Date | null;
  retired_at: Date | null;
}

function fromRow(row: JwtAuthorityRow, master: MasterKey): StoredJwtAuthority {
  // The table's CHECK allows only these; a row that says otherwise was not written by us.
  if (!isJwtSvidAlgorithm(row.alg)) {
    throw new HallmarkError('ERR_INTERNAL', {
      detail: `JWT authority ${row.kid} has algorithm ${row.alg}`,
    });
  }
  const alg = row.alg;
  return {
    kid: row.kid,
    alg,
    status: row.status,
    // Rebuilt from the key members only, whatever else the stored JSON holds.
    bundleJwk: bundleJwkOf(row.public_jwk, row.kid),
    privateKey:
      row.sealed_private_key === null
        ? undefined
        : openJwtAuthority(master, row.kid, alg, row.sealed_private_key),
    createdAt: row.created_at.getTime(),
    activatedAt: row.activated_at?.getTime(),
    retiredAt: row.retired_at?.getTime(),
  };
}

const COLUMNS =
  'kid, alg, status, public_jwk, sealed_private_key, created_at, activated_at, retired_at';

/** Every stored JWT authority, oldest first. */
export async function loadJwtAuthorities(
  db: Queryable,
  master: MasterKey,
): Promise<StoredJwtAuthority[]> {
  const result = await db.query<JwtAuthorityRow>(
    `SELECT ${COLUMNS} FROM jwt_authority_keys ORDER BY created_at, kid`,
  );
  return result.rows.map((row) => fromRow(row, master));
}

/** Stores a new authority as `prepared` or, at bootstrap, directly `active`. */
export async function insertJwtAuthority(
  db: Queryable,
  master: MasterKey,
  material: JwtAuthorityMaterial,
  status: 'prepared' | 'active',
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO jwt_authority_keys
       (kid, alg, status, public_jwk, sealed_private_key, created_at, activated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      material.kid,
      material.alg,
      status,
      JSON.stringify(material.bundleJwk),
      sealJwtAuthority(master, material),
      new Date(now),
      status === 'active' ? new Date(now) : null,
    ],
  );
}

/**
 * Retires the active authority (wiping its private key: it only verifies from now on) and
 * activates the prepared authority `kid`, in that order so the one-active index always holds.
 */
export async function activateJwtAuthority(db: Queryable, kid: string, now: number): Promise<void> {
  const at = new Date(now);
  await db.query(
    `UPDATE jwt_authority_keys SET status = 'retired', retired_at = $1, sealed_private_key = NULL
     WHERE status = 'active'`,
    [at],
  );
  await db.query(
    `UPDATE jwt_authority_keys SET status = 'active', activated_at = $2
     WHERE kid = $1 AND status = 'prepared'`,
    [kid, at],
  );
}

/** Deletes retired authorities whose JWT-SVIDs have all expired. */
export async function dropJwtAuthorities(db: Queryable, kids: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM jwt_authority_keys WHERE status = 'retired' AND kid = ANY($1)`, [
    [...kids],
  ]);
}
