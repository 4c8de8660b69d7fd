// Persistence of a rotating key table: one row per key, the private key sealed under the master key.
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { MasterKey } from '../crypto/index.js';
import type { KeySlot, KeyStatus } from './key-schedule.js';
import type { KeySigner } from './key-signer.js';
import type { KeyStore } from './key-store.js';

/** A key loaded from its table. Retired and distrusted keys have no private key any more. */
export interface StoredKey extends KeySlot {
  /** Unsealed from the row while the key may sign; `undefined` for a device-held key. */
  readonly privateKey: KeyObject | undefined;
  /** A device-held key's signer (set by such a kind's `fromRow`); sealed keys leave it out. */
  readonly signer?: KeySigner;
}

/** A row as PostgreSQL returns it: the columns every key table has, and the kind's own. */
export interface KeyRow {
  readonly kid: string;
  readonly status: KeyStatus;
  readonly public_jwk: JWK;
  readonly sealed_private_key: Buffer | null;
  readonly created_at: Date;
  readonly activated_at: Date | null;
  readonly retired_at: Date | null;
  /** The kind's {@link KeyTable.extraColumns}, by name; unchecked until `fromRow` checks them. */
  readonly [column: string]: unknown;
}

/** What a new key's row stores besides its kid, status and times. */
export interface NewKeyRow {
  /** Serialised into `public_jwk`. */
  readonly publicJwk: object;
  readonly sealedPrivateKey: Buffer;
  /** Values of {@link KeyTable.extraColumns}, in that order. */
  readonly extra: readonly unknown[];
}

/** One kind's table, and how its keys become rows and back. */
export interface KeyTable<M extends { readonly kid: string }, S extends StoredKey> {
  /** Spliced into SQL, so a constant of the code, never input. */
  readonly name: string;
  /** Columns beyond those of {@link KeyRow} (constants too). */
  readonly extraColumns: readonly string[];
  toRow(master: MasterKey, material: M): NewKeyRow;
  /** @throws HallmarkError when a row was not written by us or its sealed key does not open. */
  fromRow(master: MasterKey, row: KeyRow): S;
}

const COLUMNS = [
  'kid',
  'status',
  'public_jwk',
  'sealed_private_key',
  'created_at',
  'activated_at',
  'retired_at',
];

/** The columns of a row that the rotation rules read, times in epoch milliseconds. */
export function slotOf(row: KeyRow): KeySlot {
  return {
    kid: row.kid,
    status: row.status,
    createdAt: row.created_at.getTime(),
    activatedAt: row.activated_at?.getTime(),
    retiredAt: row.retired_at?.getTime(),
  };
}

/**
 * The {@link KeyStore} of a kind that uses the standard key table: kid, status, public JWK, the
 * sealed private key and the three times, plus the kind's own columns.
 */
export function tableStore<M extends { readonly kid: string }, S extends StoredKey>(
  master: MasterKey,
  table: KeyTable<M, S>,
): KeyStore<M, S> {
  const name = table.name;
  return {
    async load(db) {
      const columns = [...COLUMNS, ...table.extraColumns].join(', ');
      const result = await db.query<KeyRow>(
        `SELECT ${columns} FROM ${name} ORDER BY created_at, kid`,
      );
      return result.rows.map((row) => table.fromRow(master, row));
    },
    async insert(db, material, status, now) {
      const row = table.toRow(master, material);
      const columns = [...COLUMNS.slice(0, 6), ...table.extraColumns];
      const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ');
      await db.query(`INSERT INTO ${name} (${columns.join(', ')}) VALUES (${placeholders})`, [
        material.kid,
        status,
        JSON.stringify(row.publicJwk),
        row.sealedPrivateKey,
        new Date(now),
        status === 'active' ? new Date(now) : null,
        ...row.extra,
      ]);
      return material.kid;
    },
    async activate(db, kid, now) {
      // Retire first (wiping the private key: it only verifies from now on), so the
      // one-active index always holds.
      const at = new Date(now);
      await db.query(
        `UPDATE ${name} SET status = 'retired', retired_at = $1, sealed_private_key = NULL
         WHERE status = 'active'`,
        [at],
      );
      await db.query(
        `UPDATE ${name} SET status = 'active', activated_at = $2
         WHERE kid = $1 AND status = 'prepared'`,
        [kid, at],
      );
    },
    async drop(db, kids) {
      await db.query(
        `DELETE FROM ${name} WHERE status IN ('retired', 'distrusted') AND kid = ANY($1)`,
        [[...kids]],
      );
    },
    async distrust(db, kid, now) {
      // retired_at starts the retention after which the row is dropped like a retired one.
      await db.query(
        `UPDATE ${name} SET status = 'distrusted', sealed_private_key = NULL,
                retired_at = coalesce(retired_at, $2)
         WHERE kid = $1 AND status <> 'distrusted'`,
        [kid, new Date(now)],
      );
    },
  };
}
