// What a SoftHSM2 token and the database say about Hallmark's keys, read without Hallmark's code.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queryable } from '../../src/db/index.js';
import { CKA, CKO } from '../../src/hsm/pkcs11-constants.js';
import type { SoftHsmToken } from '../hsm/softhsm.js';
import { find, readFailure, witness } from '../hsm/token-witness.js';

/** One private key object in the token, with the attributes that keep it there. */
export interface TokenPrivateKey {
  /** CKA_ID as text: `<kind>:<id>`. */
  readonly id: string;
  readonly token: boolean;
  readonly private: boolean;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly alwaysSensitive: boolean;
  readonly neverExtractable: boolean;
  /** The CKR_* value reading the secret part (CKA_VALUE or CKA_PRIVATE_EXPONENT) fails with. */
  readonly secretRead: number;
}

/** Every private key object in `token`, by a session of the test's own. */
export async function tokenPrivateKeys(token: SoftHsmToken): Promise<TokenPrivateKey[]> {
  return witness(token, (api, session) =>
    find(api, session, [{ type: CKA.CLASS, value: CKO.PRIVATE_KEY }]).map((handle) => {
      const attrs = api.C_GetAttributeValue(session, handle, [
        { type: CKA.ID },
        { type: CKA.TOKEN },
        { type: CKA.PRIVATE },
        { type: CKA.SENSITIVE },
        { type: CKA.EXTRACTABLE },
        { type: CKA.ALWAYS_SENSITIVE },
        { type: CKA.NEVER_EXTRACTABLE },
        { type: CKA.KEY_TYPE },
      ]);
      const flag = (i: number): boolean => attrs[i]!.value[0] === 1;
      const isEc = attrs[7]!.value[0] === 3;
      return {
        id: attrs[0]!.value.toString('utf8'),
        token: flag(1),
        private: flag(2),
        sensitive: flag(3),
        extractable: flag(4),
        alwaysSensitive: flag(5),
        neverExtractable: flag(6),
        secretRead: readFailure(api, session, handle, isEc ? CKA.VALUE : CKA.PRIVATE_EXPONENT),
      };
    }),
  );
}

/** A key row of any keyring: where its private key is, as `<kind>:<pkcs11_id>` or sealed. */
export interface KeyRow {
  readonly table: string;
  readonly key: string;
  readonly status: string;
  /** `<kind>:<pkcs11_id>` (the token object's CKA_ID), or `undefined`. */
  readonly tokenId: string | undefined;
  readonly sealed: boolean;
}

/** Every key row of the CA, access-token, JWT-authority and audit-checkpoint keyrings. */
export async function keyRows(db: Queryable): Promise<KeyRow[]> {
  const { rows } = await db.query<{
    table: string;
    key: string;
    status: string;
    kind: string;
    pkcs11_id: string | null;
    sealed: boolean;
  }>(
    `SELECT 'ca_authorities' AS table, id::text AS key, status, 'ca' AS kind, pkcs11_id,
            sealed_key IS NOT NULL AS sealed FROM ca_authorities
     UNION ALL
     SELECT 'token_signing_keys', kid, status, 'access-token', pkcs11_id,
            sealed_private_key IS NOT NULL FROM token_signing_keys
     UNION ALL
     SELECT 'jwt_authority_keys', kid, status, 'jwt-authority', pkcs11_id,
            sealed_private_key IS NOT NULL FROM jwt_authority_keys
     UNION ALL
     SELECT 'audit_checkpoint_keys', kid, status, 'audit-checkpoint', pkcs11_id,
            sealed_private_key IS NOT NULL FROM audit_checkpoint_keys`,
  );
  return rows.map((row) => ({
    table: row.table,
    key: row.key,
    status: row.status,
    tokenId: row.pkcs11_id === null ? undefined : `${row.kind}:${row.pkcs11_id}`,
    sealed: row.sealed,
  }));
}

/** `openssl verify -x509_strict` of a leaf against a bundle; throws with OpenSSL's words. */
export async function opensslVerify(bundlePem: string, leafPem: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hallmark-hsm-verify-'));
  try {
    await writeFile(path.join(dir, 'bundle.pem'), bundlePem);
    await writeFile(path.join(dir, 'leaf.pem'), leafPem);
    return execFileSync('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      path.join(dir, 'bundle.pem'),
      path.join(dir, 'leaf.pem'),
    ]).toString();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
