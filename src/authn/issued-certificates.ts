// The issuance record of an SVID (table issued_certificates): which attested workload it was for.
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import type { BatchedChange } from '../audit/index.js';
import { preparedStatement, type Queryable } from '../db/index.js';

/** What the server recorded when it issued an X509-SVID. */
export interface IssuedCertificateRecord {
  /** Lowercase hex of the serial's magnitude, as `src/x509`'s `serialHex`. */
  readonly serial: string;
  readonly spiffeId: string;
  /** The CA that signed it (`ca_authorities.id`), so a distrusted CA's SVIDs are refused. */
  readonly caId: number;
  /** SHA-256 (hex) of the certified SubjectPublicKeyInfo DER. */
  readonly publicKeyFingerprint: string;
  /** The attested workload; `null` for certificates not issued to a workload. */
  readonly namespace: string | null;
  readonly serviceAccount: string | null;
  readonly podName: string | null;
  readonly podUid: string | null;
}

/** What the SVID route records for a certificate it is about to hand out. */
export interface NewIssuanceRecord extends IssuedCertificateRecord {
  /** The database id of the CA that signed it. */
  readonly caId: number;
  readonly notAfter: Date;
  readonly issuedAt: Date;
}

/** Finds issuance records by serial. */
export interface IssuedCertificateLookup {
  findBySerial(serial: string): Promise<IssuedCertificateRecord | null>;
}

/**
 * Normalises a serial to the stored form: lowercase hex without leading zero octets, whether it
 * comes from `serialHex` or from node's `serialNumber` (uppercase, as OpenSSL's BN_bn2hex).
 */
export function normalizeSerial(hex: string): string {
  let serial = hex.toLowerCase();
  while (serial.length > 2 && serial.startsWith('00')) serial = serial.slice(2);
  return serial;
}

interface Row {
  serial: string;
  spiffe_id: string;
  ca_id: string;
  public_key_fingerprint: string;
  namespace: string | null;
  service_account: string | null;
  pod_name: string | null;
  pod_uid: string | null;
}

const FIND_BY_SERIAL = preparedStatement(
  'issued-certificate-by-serial',
  `SELECT serial, spiffe_id, ca_id, public_key_fingerprint, namespace, service_account, pod_name,
          pod_uid
     FROM issued_certificates WHERE serial = $1`,
);

const RECORD_ISSUED = preparedStatement(
  'issued-certificates-insert',
  `INSERT INTO issued_certificates
     (serial, spiffe_id, ca_id, not_after, public_key_fingerprint, issued_at, namespace,
      service_account, pod_name, pod_uid)
   SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[],
                        $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[])`,
);

/** The insert of many issuance records as one statement. */
function recordIssuances(records: readonly NewIssuanceRecord[]): pg.QueryConfig {
  const column = <K extends keyof NewIssuanceRecord>(key: K): NewIssuanceRecord[K][] =>
    records.map((record) => record[key]);
  return RECORD_ISSUED([
    column('serial'),
    column('spiffeId'),
    column('caId'),
    column('notAfter'),
    column('publicKeyFingerprint'),
    column('issuedAt'),
    column('namespace'),
    column('serviceAccount'),
    column('podName'),
    column('podUid'),
  ]);
}

/**
 * An issuance record as a change for `AuditLog.appendWith`: the SVID route hands it over with
 * its `svid.x509.issued` row, so the record and the row commit together (with the other SVIDs
 * issued meanwhile, in one statement and one COMMIT), or neither does.
 */
export function issuanceRecordChange(record: NewIssuanceRecord): BatchedChange<NewIssuanceRecord> {
  return { statement: recordIssuances, row: record };
}

/** The PostgreSQL lookup: one primary-key read per login. */
export function pgIssuedCertificates(db: Queryable): IssuedCertificateLookup {
  return {
    async findBySerial(serial) {
      const result = await db.query<Row>(FIND_BY_SERIAL([normalizeSerial(serial)]));
      const row = result.rows[0];
      if (row === undefined) return null;
      return {
        serial: row.serial,
        spiffeId: row.spiffe_id,
        caId: Number(row.ca_id),
        publicKeyFingerprint: row.public_key_fingerprint,
        namespace: row.namespace,
        serviceAccount: row.service_account,
        podName: row.pod_name,
        podUid: row.pod_uid,
      };
    },
  };
}

/**
 * Remembers found records: an issuance record never changes once written (rows are only ever
 * inserted; whether its CA is still trusted is checked on every use, not cached), and a
 * sidecar logs in with the same SVID every few minutes until it renews it, so a repeat login
 * needs no database read. Misses are not remembered: a record written by another replica a
 * moment ago must be found on the next try. Concurrent lookups of one serial share one read. At
 * most `maxEntries` records are kept; the least recently used goes first.
 */
export function cachedIssuedCertificates(
  inner: IssuedCertificateLookup,
  maxEntries = 10_000,
): IssuedCertificateLookup {
  const records = new LRUCache<string, IssuedCertificateRecord>({
    max: maxEntries,
    // `undefined` is lru-cache's "nothing to store": a miss is answered but not remembered.
    fetchMethod: async (serial) => (await inner.findBySerial(serial)) ?? undefined,
    // A record evicted while its read runs still answers the callers waiting on it.
    ignoreFetchAbort: true,
  });
  return {
    async findBySerial(serial) {
      return (await records.fetch(normalizeSerial(serial))) ?? null;
    },
  };
}
