// Persistence of signing keys: rows of token_signing_keys, private keys sealed under the master key.
import type { JWK } from 'jose';
import { slotOf, type KeyTable, type StoredKey } from '../keyring/index.js';
import { openSigningKey, sealSigningKey, type SigningKeyMaterial } from './signing-key.js';

/** A signing key loaded from PostgreSQL. Retired keys have no private key any more. */
export interface StoredSigningKey extends StoredKey {
  readonly publicJwk: JWK;
}

/** The `token_signing_keys` table (migration 4). */
export const SIGNING_KEY_TABLE: KeyTable<SigningKeyMaterial, StoredSigningKey> = {
  name: 'token_signing_keys',
  extraColumns: [],
  toRow: (master, material) => ({
    publicJwk: material.publicJwk,
    sealedPrivateKey: sealSigningKey(master, material),
    extra: [],
  }),
  fromRow: (master, row) => ({
    ...slotOf(row),
    publicJwk: row.public_jwk,
    privateKey:
      row.sealed_private_key === null
        ? undefined
        : openSigningKey(master, row.kid, row.sealed_private_key),
  }),
};
