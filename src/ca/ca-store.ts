// Persistence of CAs: rows in ca_authorities with private keys sealed under the master key.
import { createHash, X509Certificate } from 'node:crypto';
import type { MasterKey } from '../crypto/index.js';
import type { Queryable } from '../db/index.js';
import {
  openPrivateKey,
  sealPrivateKey,
  type KeyStatus,
  type KeyStore,
  type StoredKey,
} from '../keyring/index.js';
import type { CaMaterial } from './ca-material.js';
import type { CaSlot } from './rotation-schedule.js';

/**
 * A CA loaded from its row. Its kid is its database id as a string (the id issuance records
 * carry in `ca_id`); only prepared and active CAs have their private key unsealed, because
 * only they ever sign.
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

function storedCaOf(master: MasterKey, row: CaRow): StoredCa {
  const status = KEY_STATUS[row.status];
  const signs = status === 'prepared' || status === 'active';
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
    certificate: new X509Certificate(row.cert_pem),
    notBefore: row.not_before.getTime(),
    notAfter: row.not_after.getTime(),
    privateKey:
      signs && row.sealed_key !== null
        ? openPrivateKey(master, row.sealed_key, keyAad(row.cert_pem))
        : undefined,
  };
}

/** The CA's {@link KeyStore} over `ca_authorities`. CA rows are never deleted. */
export function caStore(master: MasterKey, keyType: string): KeyStore<CaMaterial, StoredCa> {
  return {
    async load(db) {
      const result = await db.query<CaRow>(
        `SELECT id, status, key_type, cert_pem, chain_pem, sealed_key, not_before, not_after,
                created_at, activated_at, distrusted_at
           FROM ca_authorities ORDER BY id`,
      );
      return result.rows.map((row) => storedCaOf(master, row));
    },
    async insert(db, material, status, now) {
      const certificate = new X509Certificate(material.certificatePem);
      const sealed = sealPrivateKey(master, material.privateKey, keyAad(material.certificatePem));
      const result = await db.query<{ id: string }>(
        `INSERT INTO ca_authorities (status, key_type, cert_pem, chain_pem, sealed_key, not_before, not_after, created_at, activated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [
          status,
          keyType,
          material.certificatePem,
          material.chainPem.join(''),
          sealed,
          new Date(certificate.validFrom),
          new Date(certificate.validTo),
          new Date(now),
          status === 'active' ? new Date(now) : null,
        ],
      );
      return String(result.rows[0]?.id);
    },
    async activate(db, kid, now) {
      // Old CAs keep their key (the table requires it) but never sign again.
      await db.query("UPDATE ca_authorities SET status = 'old' WHERE status = 'active'");
      await db.query(
        "UPDATE ca_authorities SET status = 'active', activated_at = $2 WHERE id = $1 AND status = 'prepared'",
        [kid, new Date(now)],
      );
    },
    async drop() {
      // Never called (the CA policy never drops): issued_certificates references every CA.
    },
    async distrust(db, kid, now) {
      // The key is wiped: whoever holds a copy, this server never signs with it again.
      await db.query(
        `UPDATE ca_authorities SET status = 'distrusted', sealed_key = NULL, distrusted_at = $2
         WHERE id = $1 AND status <> 'distrusted'`,
        [kid, new Date(now)],
      );
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
