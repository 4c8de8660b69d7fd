// Persistence of a rotating key table: one row per key, its private key sealed or in a PKCS#11 token.
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { MasterKey } from '../crypto/index.js';
import type { HsmKeyKind, TokenKeyRef } from '../hsm/index.js';
import type { KeySlot, KeyStatus } from './key-schedule.js';
import type { KeySigner } from './key-signer.js';
import type { KeyStore } from './key-store.js';
import type { KeyVault, PrivateKeyCustody } from './key-vault.js';

/** A key loaded from its table. Retired and distrusted keys have no private key any more. */
export interface StoredKey extends KeySlot {
  /** Unsealed from the row while the key may sign; `undefined` for a device-held key. */
  readonly privateKey: KeyObject | undefined;
  /** A device-held key's signer (set by such a kind's `fromRow`); sealed keys leave it out. */
  readonly signer?: KeySigner;
  /** Set while a PKCS#11 token holds the private key (from the row's `pkcs11_id`). */
  readonly tokenRef?: TokenKeyRef;
}

/** A row as PostgreSQL returns it: the columns every key table has, and the kind's own. */
export interface KeyRow {
  readonly kid: string;
  readonly status: KeyStatus;
  readonly public_jwk: JWK;
  readonly sealed_private_key: Buffer | null;
  /** The token key's id (its CKA_ID is `<kind>:<pkcs11_id>`); never set with a sealed key. */
  readonly pkcs11_id: string | null;
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
  /** Exactly one of the two: a row is sealed or token-held, never both (migration 15). */
  readonly sealedPrivateKey: Buffer | null;
  readonly pkcs11Id: string | null;
  /** Values of {@link KeyTable.extraColumns}, in that order. */
  readonly extra: readonly unknown[];
}

/** One kind's table, and how its keys become rows and back. */
export interface KeyTable<M extends { readonly kid: string }, S extends StoredKey> {
  /** Spliced into SQL, so a constant of the code, never input. */
  readonly name: string;
  /** What its keys are called in a token (their CKA_ID and label). */
  readonly tokenKind: HsmKeyKind;
  /** Columns beyond those of {@link KeyRow} (constants too). */
  readonly extraColumns: readonly string[];
  toRow(master: MasterKey, material: M): NewKeyRow;
  /** @throws HallmarkError when a row was not written by us or its sealed key does not open. */
  fromRow(master: MasterKey, row: KeyRow, vault: KeyVault): S;
}

/** The two private-key columns of a new row: `seal` runs only for a key held in this process. */
export function custodyColumns(
  custody: PrivateKeyCustody,
  seal: (privateKey: KeyObject) => Buffer,
): Pick<NewKeyRow, 'sealedPrivateKey' | 'pkcs11Id'> {
  return custody.kind === 'sealed'
    ? { sealedPrivateKey: seal(custody.privateKey), pkcs11Id: null }
    : { sealedPrivateKey: null, pkcs11Id: custody.ref.id };
}

const COLUMNS = [
  'kid',
  'status',
  'public_jwk',
  'sealed_private_key',
  'pkcs11_id',
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
 * sealed private key or the token key's id, and the three times, plus the kind's own columns.
 * A token key is destroyed in the token when its row is dropped (every token it signed has
 * expired) or distrusted, inside the round's transaction: if the token cannot, nothing changes.
 */
export function tableStore<M extends { readonly kid: string }, S extends StoredKey>(
  master: MasterKey,
  table: KeyTable<M, S>,
  vault: KeyVault,
): KeyStore<M, S> {
  const name = table.name;
  const destroy = async (ids: readonly (string | null)[]): Promise<void> => {
    for (const id of ids) if (id !== null) await vault.destroy({ kind: table.tokenKind, id });
  };
  return {
    async load(db) {
      const columns = [...COLUMNS, ...table.extraColumns].join(', ');
      const result = await db.query<KeyRow>(
        `SELECT ${columns} FROM ${name} ORDER BY created_at, kid`,
      );
      return result.rows.map((row) => table.fromRow(master, row, vault));
    },
    async insert(db, material, status, now) {
      const row = table.toRow(master, material);
      const columns = [...COLUMNS.slice(0, 7), ...table.extraColumns];
      const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ');
      await db.query(`INSERT INTO ${name} (${columns.join(', ')}) VALUES (${placeholders})`, [
        material.kid,
        status,
        JSON.stringify(row.publicJwk),
        row.sealedPrivateKey,
        row.pkcs11Id,
        new Date(now),
        status === 'active' ? new Date(now) : null,
        ...row.extra,
      ]);
      return material.kid;
    },
    async activate(db, kid, now) {
      // Retire first (wiping a sealed private key: it only verifies from now on), so the
      // one-active index always holds. A token key stays until the row is dropped: a replica
      // that has not yet seen the activation may still sign with it for the propagation time.
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
      const dropped = await db.query<{ pkcs11_id: string | null }>(
        `DELETE FROM ${name} WHERE status IN ('retired', 'distrusted') AND kid = ANY($1)
         RETURNING pkcs11_id`,
        [[...kids]],
      );
      await destroy(dropped.rows.map((row) => row.pkcs11_id));
    },
    async distrust(db, kid, now) {
      // retired_at starts the retention after which the row is dropped like a retired one; the
      // private key goes at once, sealed or in the token.
      const distrusted = await db.query<{ pkcs11_id: string | null }>(
        `WITH before AS (SELECT kid, pkcs11_id FROM ${name} WHERE kid = $1 FOR UPDATE)
         UPDATE ${name} AS k SET status = 'distrusted', sealed_private_key = NULL,
                pkcs11_id = NULL, retired_at = coalesce(k.retired_at, $2)
           FROM before WHERE k.kid = before.kid AND k.status <> 'distrusted'
         RETURNING before.pkcs11_id`,
        [kid, new Date(now)],
      );
      await destroy(distrusted.rows.map((row) => row.pkcs11_id));
    },
  };
}
