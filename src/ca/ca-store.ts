// Persistence of CAs: rows in ca_authorities with private keys sealed under the master key.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { CaSlot } from './rotation-schedule.js';

/** A CA loaded into memory, ready to sign. */
export interface LoadedCa extends CaSlot {
  keyType: string;
  certificatePem: string;
  /** Upstream intermediates above this CA, leaf-most first (empty for a self-signed root). */
  chainPem: string[];
  privateKey: KeyObject;
  certificate: X509Certificate;
}

interface CaRow {
  id: string;
  status: CaSlot['status'];
  key_type: string;
  cert_pem: string;
  chain_pem: string;
  sealed_key: Buffer;
  not_before: Date;
  not_after: Date;
}

/** The AAD binds a sealed key to its certificate: a key row cannot be moved to another CA. */
function keyAad(certificatePem: string): string {
  const der = new X509Certificate(certificatePem).raw;
  return `ca-key|${createHash('sha256').update(der).digest('hex')}`;
}

/** Reads every CA that is not long expired. */
export async function loadCas(db: Queryable, master: MasterKey): Promise<LoadedCa[]> {
  const result = await db.query<CaRow>('SELECT * FROM ca_authorities ORDER BY id');
  return result.rows.map((row) => {
    const pkcs8 = master.open(row.sealed_key, keyAad(row.cert_pem));
    return {
      id: Number(row.id),
      status: row.status,
      keyType: row.key_type,
      certificatePem: row.cert_pem,
      chainPem: row.chain_pem === '' ? [] : splitPem(row.chain_pem),
      privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
      certificate: new X509Certificate(row.cert_pem),
      notBefore: row.not_before.getTime(),
      notAfter: row.not_after.getTime(),
    };
  });
}

/** Inserts a new CA in the given status and returns its id. */
export async function insertCa(
  db: Queryable,
  master: MasterKey,
  ca: {
    status: CaSlot['status'];
    keyType: string;
    certificatePem: string;
    chainPem: string[];
    privateKey: KeyObject;
    now: number;
  },
): Promise<number> {
  const certificate = new X509Certificate(ca.certificatePem);
  const pkcs8 = ca.privateKey.export({ format: 'der', type: 'pkcs8' });
  const sealed = master.seal(pkcs8, keyAad(ca.certificatePem));
  const result = await db.query<{ id: string }>(
    `INSERT INTO ca_authorities (status, key_type, cert_pem, chain_pem, sealed_key, not_before, not_after, created_at, activated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      ca.status,
      ca.keyType,
      ca.certificatePem,
      ca.chainPem.join(''),
      sealed,
      new Date(certificate.validFrom),
      new Date(certificate.validTo),
      new Date(ca.now),
      ca.status === 'active' ? new Date(ca.now) : null,
    ],
  );
  return Number(result.rows[0]?.id);
}

/** Moves the active CA to old and the given prepared CA to active, in the caller's transaction. */
export async function activateCa(db: Queryable, id: number, now: number): Promise<void> {
  await db.query("UPDATE ca_authorities SET status = 'old' WHERE status = 'active'");
  await db.query(
    "UPDATE ca_authorities SET status = 'active', activated_at = $2 WHERE id = $1 AND status = 'prepared'",
    [id, new Date(now)],
  );
}

/** Bumps the bundle's spiffe_sequence and returns the new value. */
export async function bumpBundleSequence(db: Queryable): Promise<number> {
  const result = await db.query<{ sequence: string }>(
    'UPDATE bundle_state SET sequence = sequence + 1 RETURNING sequence',
  );
  return Number(result.rows[0]?.sequence);
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
