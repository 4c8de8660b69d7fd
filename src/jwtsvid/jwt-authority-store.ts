// Persistence of JWT authorities: rows of jwt_authority_keys, private keys sealed or in the token.
import type { BundleJwk } from '../ca/index.js';
import { HallmarkError } from '../errors/index.js';
import { custodyColumns, slotOf, type KeyTable, type StoredKey } from '../keyring/index.js';
import {
  bundleJwkOf,
  openJwtAuthority,
  publicKeyOfBundleJwk,
  sealJwtAuthority,
  type JwtAuthorityMaterial,
} from './jwt-authority-key.js';
import { isJwtSvidAlgorithm, type JwtSvidAlgorithm } from './jwt-svid-algorithm.js';

/** A JWT authority loaded from PostgreSQL. Retired authorities have no private key any more. */
export interface StoredJwtAuthority extends StoredKey {
  readonly alg: JwtSvidAlgorithm;
  readonly bundleJwk: BundleJwk;
}

/** The `jwt_authority_keys` table (migrations 7 and 15): a signing key row plus its `alg`. */
export const JWT_AUTHORITY_TABLE: KeyTable<JwtAuthorityMaterial, StoredJwtAuthority> = {
  name: 'jwt_authority_keys',
  tokenKind: 'jwt-authority',
  extraColumns: ['alg'],
  toRow: (master, material) => ({
    publicJwk: material.bundleJwk,
    ...custodyColumns(material.key.custody, (privateKey) =>
      sealJwtAuthority(master, material, privateKey),
    ),
    extra: [material.alg],
  }),
  fromRow: (master, row, vault) => {
    const alg = row['alg'];
    // The table's CHECK allows only these; a row that says otherwise was not written by us.
    if (!isJwtSvidAlgorithm(alg)) {
      throw new HallmarkError('ERR_INTERNAL', {
        detail: `JWT authority ${row.kid} has algorithm ${String(alg)}`,
      });
    }
    // Rebuilt from the key members only, whatever else the stored JSON holds.
    const bundleJwk = bundleJwkOf(row.public_jwk, row.kid);
    return {
      ...slotOf(row),
      alg,
      bundleJwk,
      ...vault.held(
        'jwt-authority',
        { sealed: row.sealed_private_key, pkcs11Id: row.pkcs11_id },
        () => publicKeyOfBundleJwk(bundleJwk),
        (sealed) => openJwtAuthority(master, row.kid, alg, sealed),
        row.status === 'prepared' || row.status === 'active',
      ),
    };
  },
};
