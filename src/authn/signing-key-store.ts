// Persistence of signing keys: rows of token_signing_keys, private keys sealed or in the token.
import type { JWK } from 'jose';
import { custodyColumns, slotOf, type KeyTable, type StoredKey } from '../keyring/index.js';
import {
  openSigningKey,
  publicKeyOf,
  sealSigningKey,
  type SigningKeyMaterial,
} from './signing-key.js';

/** A signing key loaded from PostgreSQL. Retired keys have no private key any more. */
export interface StoredSigningKey extends StoredKey {
  readonly publicJwk: JWK;
}

/** The `token_signing_keys` table (migrations 4 and 15). */
export const SIGNING_KEY_TABLE: KeyTable<SigningKeyMaterial, StoredSigningKey> = {
  name: 'token_signing_keys',
  tokenKind: 'access-token',
  extraColumns: [],
  toRow: (master, material) => ({
    publicJwk: material.publicJwk,
    ...custodyColumns(material.key.custody, (privateKey) =>
      sealSigningKey(master, material.kid, privateKey),
    ),
    extra: [],
  }),
  fromRow: (master, row, vault) => ({
    ...slotOf(row),
    publicJwk: row.public_jwk,
    ...vault.held(
      'access-token',
      { sealed: row.sealed_private_key, pkcs11Id: row.pkcs11_id },
      () => publicKeyOf(row.public_jwk),
      (sealed) => openSigningKey(master, row.kid, sealed),
      row.status === 'prepared' || row.status === 'active',
    ),
  }),
};
