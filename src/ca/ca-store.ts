// Persistence of CAs: rows in ca_authorities, private keys sealed under the master key or in a token.
import { createHash, X509Certificate } from 'node:crypto';
import type { MasterKey } from '../crypto/index.js';
import type { Queryable } from '../db/index.js';
import {
  custodyColumns,
  openPrivateKey,
  sealPrivateKey,
  type KeyStatus,
  type KeyStore,
  type KeyVault,
  type StoredKey,
} from '../keyring/index.js';
import type { CaMaterial } from './ca-material.js';
import type { CaSlot } from './rotation-schedule.js';

/**
 * A CA loaded from its row. Its kid is its database id as a string (the id issuance records
 * carry in `ca_id`); only prepared and active CAs have their private key unsealed (or a token
 * signer), because only they ever sign. `tokenRef` stays set on an old CA until its token key
 * is destroyed, once its certificate has expired.
 */
export interface StoredCa extends StoredKey {
  readonly id: number;
  readonly keyType: string;
  readonly certificatePem: string;
  /** Upstream intermediates above this CA, leaf-most first (empty for a self-signed root). */
  readonly chainPem: readonly string[];
  readonly certificate: X509Certificate;
  readonly notBefore: number;
  readonly notAfter: number;
}

interface CaRow {
  id: string;
  status: CaSlot['status'];
  key_type: string;
  cert_pem: string;
  chain_pem: string;
  sealed_key: Buffer | null;
  pkcs11_id: string | null;
  not_before: Date;
  not_after: Date;
  created_at: Date;
  activated_at: Date | null;
  distrusted_at: Date | null;
}

/** The table says `old` where the keyring says `retired` (migration 2 predates the keyring). */
const KEY_STATUS: Readonly<Record<CaSlot['status'], KeyStatus>> = {
  prepared: 'prepared',
  active: 'active',
  old: 'retired',
  distrusted: 'distrusted',
};

/** The CA's status as the table and the rotation schedule name it. */
export function caStatusOf(status: KeyStatus): CaSlot['status'] {
  return status === 'retired' ? 'old' : status;
}

/** The AAD binds a sealed key to its certificate: a key row cannot be moved to another CA. */
function keyAad(certificatePem: string): string {
  const der = new X509Certificate(certificatePem).raw;
  return `ca-key|${createHash('sha256').update(der).digest('hex')}`;
}

function storedCaOf(master: MasterKey, vault: KeyVault, row: CaRow): StoredCa {
  const status = KEY_STATUS[row.status];
  const signs = status === 'prepared' || status === 'active';
  const certificate = new X509Certificate(row.cert_pem);
  return {
    kid: row.id,
    id: Number(row.id),
    status,
    createdAt: row.created_at.getTime(),
    activatedAt: row.activated_at?.getTime(),
    retiredAt: row.distrusted_at?.getTime(),
    keyType: row.key_type,
    certificatePem: row.cert_pem,
    chainPem: row.chain_pem === '' ? [] : splitPem(row.chain_pem),
    certificate,
    notBefore: row.not_before.getTime(),
    notAfter: row.not_after.getTime(),
    ...vault.held(
      'ca',
      { sealed: row.sealed_key, pkcs11Id: row.pkcs11_id },
      () => certificate.publicKey,
      (sealed) => openPrivateKey(master, sealed, keyAad(row.cert_pem)),
      signs,
    ),
  };
}

/**
 * The CA's {@link KeyStore} over `ca_authorities`. CA rows are never deleted; `drop` destroys
 * the token keys of old CAs whose certificates have expired (the policy decides which), and
 * distrust destroys a token key at once. Both inside the round's transaction: if the token
 * cannot, nothing changes.
 */
export function caStore(
  master: MasterKey,
  keyType: string,
  vault: KeyVault,
): KeyStore<CaMaterial, StoredCa> {
  const destroy = async (ids: readonly (string | null)[]): Promise<void> => {
    for (const id of ids) if (id !== null) await vault.destroy({ kind: 'ca', id });
  };
  return {
    async load(db) {
      const result = await db.query<CaRow>(
        `SELECT id, status, key_type, cert_pem, chain_pem, sealed_key, pkcs11_id, not_before,
                not_after, created_at, activated_at, distrusted_at
           FROM ca_authorities ORDER BY id`,
      );
      return result.rows.map((row) => storedCaOf(master, vault, row));
    },
    async insert(db, material, status, now) {
      const certificate = new X509Certificate(material.certificatePem);
      const { sealedPrivateKey, pkcs11Id } = custodyColumns(material.key.custody, (privateKey) =>
        sealPrivateKey(master, privateKey, keyAad(material.certificatePem)),
      );
      const result = await db.query<{ id: string }>(
        `INSERT INTO ca_authorities (status, key_type, cert_pem, chain_pem, sealed_key, pkcs11_id, not_before, not_after, created_at, activated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [
          status,
          keyType,
          material.certificatePem,
          material.chainPem.join(''),
          sealedPrivateKey,
          pkcs11Id,
          new Date(certificate.validFrom),
          new Date(certificate.validTo),
          new Date(now),
          status === 'active' ? new Date(now) : null,
        ],
      );
      return String(result.rows[0]?.id);
    },
    async activate(db, kid, now) {
      // Old CAs keep their key but never sign again: a sealed one for good (as before the
      // token), a token one until the CA expires.
      await db.query("UPDATE ca_authorities SET status = 'old' WHERE status = 'active'");
      await db.query(
        "UPDATE ca_authorities SET status = 'active', activated_at = $2 WHERE id = $1 AND status = 'prepared'",
        [kid, new Date(now)],
      );
    },
    async drop(db, kids) {
      // The row stays (issued_certificates references every CA); only its token key goes.
      const spent = await db.query<{ pkcs11_id: string | null }>(
        `WITH before AS (SELECT id, pkcs11_id FROM ca_authorities
                          WHERE id = ANY($1::bigint[]) AND status = 'old' FOR UPDATE)
         UPDATE ca_authorities AS ca SET pkcs11_id = NULL
           FROM before WHERE ca.id = before.id AND before.pkcs11_id IS NOT NULL
         RETURNING before.pkcs11_id`,
        [[...kids]],
      );
      await destroy(spent.rows.map((row) => row.pkcs11_id));
    },
    async distrust(db, kid, now) {
      // The key is wiped (or destroyed in the token): whoever holds a copy, this server never
      // signs with it again.
      const distrusted = await db.query<{ pkcs11_id: string | null }>(
        `WITH before AS (SELECT id, pkcs11_id FROM ca_authorities WHERE id = $1 FOR UPDATE)
         UPDATE ca_authorities AS ca SET status = 'distrusted', sealed_key = NULL,
                pkcs11_id = NULL, distrusted_at = $2
           FROM before WHERE ca.id = before.id AND ca.status <> 'distrusted'
         RETURNING before.pkcs11_id`,
        [kid, new Date(now)],
      );
      await destroy(distrusted.rows.map((row) => row.pkcs11_id));
    },
  };
}

/** NOTIFY channel on which replicas learn that the CA set or the bundle changed. */
export const CA_CHANNEL = 'hallmark_ca';

/**
 * Publishes `ids` as the bundle's set of X.509 anchors; when that differs from the stored set,
 * bumps spiffe_sequence. Returns true when it did.
 */
export async function publishAnchors(db: Queryable, ids: readonly number[]): Promise<boolean> {
  const published = ids.join(',');
  const result = await db.query(
    `UPDATE bundle_state SET published = $1, sequence = sequence + 1
     WHERE published IS DISTINCT FROM $1`,
    [published],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Records, in the caller's transaction `tx`, that the bundle's other half (its JWT-SVID keys)
 * changed: bumps spiffe_sequence and wakes every replica's CA on its channel, so the bundle
 * they serve and write out carries the new sequence.
 */
export async function announceBundleChange(tx: Queryable): Promise<void> {
  await tx.query('UPDATE bundle_state SET sequence = sequence + 1');
  await tx.query(`NOTIFY ${CA_CHANNEL}`);
}

/** Current spiffe_sequence. */
export async function readBundleSequence(db: Queryable): Promise<number> {
  const result = await db.query<{ sequence: string }>('SELECT sequence FROM bundle_state');
  return Number(result.rows[0]?.sequence ?? 0);
}

/** Splits concatenated PEM certificates. */
export function splitPem(text: string): string[] {
  return (
    text
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)
      ?.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)) ?? []
  );
}
