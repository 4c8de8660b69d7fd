// Persistence of JWT authorities: rows of jwt_authority_keys, private keys sealed under the master key.
import type { BundleJwk } from '../ca/index.js';
import { HallmarkError } from '../errors/index.js';
import { slotOf, type KeyTable, type StoredKey } from '../keyring/index.js';
import {
  bundleJwkOf,
  openJwtAuthority,
  sealJwtAuthority,
  type JwtAuthorityMaterial,
} from './jwt-authority-key.js';
import { isJwtSvidAlgorithm, type JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** A JWT authority loaded from PostgreSQL. Retired authorities have no private key any more. */
export interface StoredJwtAuthority extends StoredKey {
  readonly alg: JwtSvidAlgorithm;
  readonly bundleJwk: BundleJwk;
}

/** The `jwt_authority_keys` table (migration 7): a signing key row plus its `alg`. */
export const JWT_AUTHORITY_TABLE: KeyTable<JwtAuthorityMaterial, StoredJwtAuthority> = {
  name: 'jwt_authority_keys',
  extraColumns: ['alg'],
  toRow: (master, material) => ({
    publicJwk: material.bundleJwk,
    sealedPrivateKey: sealJwtAuthority(master, material),
    extra: [material.alg],
  }),
  fromRow: (master, row) => {
    const alg = row['alg'];
    // The table's CHECK allows only these; a row that says otherwise was not written by us.
    if (!isJwtSvidAlgorithm(alg)) {
      throw new HallmarkError('ERR_INTERNAL', {
        detail: `JWT authority ${row.kid} has algorithm ${String(alg)}`,
      });
    }
    return {
      ...slotOf(row),
      alg,
      // Rebuilt from the key members only, whatever else the stored JSON holds.
      bundleJwk: bundleJwkOf(row.public_jwk, row.kid),
      privateKey:
        row.sealed_private_key === null
          ? undefined
          : openJwtAuthority(master, row.kid, alg, row.sealed_private_key),
    };
  },
};
