// The federated_bundles table (migration 14): each foreign trust domain's kept bundle and the
// state of its endpoint, read and written only through these statements.
import type { Queryable } from '../db/index.js';
import { bundleDocumentOf, parseSpiffeBundle, type SpiffeBundle } from '../spiffe/index.js';

/** One row, decoded. Times are epoch milliseconds. */
export interface FederatedBundleRow {
  readonly trustDomain: string;
  /** `undefined` until the first bundle (an `https_web` endpoint not fetched yet). */
  readonly bundle: SpiffeBundle | undefined;
  readonly source: 'bootstrap' | 'endpoint' | undefined;
  readonly bootstrapSha256: string | undefined;
  /** When the bundle last changed. */
  readonly updatedAt: number | undefined;
  readonly refreshAfter: number;
  /** Failed fetches since the last good one. */
  readonly failures: number;
  readonly lastSuccessAt: number | undefined;
  readonly lastErrorAt: number | undefined;
  readonly lastError: string | undefined;
}

interface RawRow {
  trust_domain: string;
  document: unknown;
  source: 'bootstrap' | 'endpoint' | null;
  bootstrap_sha256: string | null;
  updated_at: Date | null;
  refresh_after: Date;
  failures: number;
  last_success_at: Date | null;
  last_error_at: Date | null;
  last_error: string | null;
}

const ms = (date: Date | null): number | undefined => date?.getTime();

function decode(row: RawRow): FederatedBundleRow {
  return {
    trustDomain: row.trust_domain,
    // Stored canonical and valid; parsed again so a row edited by hand cannot smuggle in more.
    bundle: row.document === null ? undefined : parseSpiffeBundle(JSON.stringify(row.document)),
    source: row.source ?? undefined,
    bootstrapSha256: row.bootstrap_sha256 ?? undefined,
    updatedAt: ms(row.updated_at),
    refreshAfter: row.refresh_after.getTime(),
    failures: row.failures,
    lastSuccessAt: ms(row.last_success_at),
    lastErrorAt: ms(row.last_error_at),
    lastError: row.last_error ?? undefined,
  };
}

/** Every row; `forUpdate` locks them for the rest of the transaction. */
export async function loadFederatedBundles(
  db: Queryable,
  forUpdate = false,
): Promise<FederatedBundleRow[]> {
  const result = await db.query<RawRow>(
    `SELECT trust_domain, document, source, bootstrap_sha256, updated_at, refresh_after, failures,
            last_success_at, last_error_at, last_error
       FROM federated_bundles ORDER BY trust_domain${forUpdate ? ' FOR UPDATE' : ''}`,
  );
  return result.rows.map(decode);
}

/** A new relationship: its bootstrap bundle if it has one, due for a fetch at once. */
export async function insertRelationship(
  db: Queryable,
  trustDomain: string,
  bootstrap: { bundle: SpiffeBundle; sha256: string } | undefined,
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO federated_bundles
       (trust_domain, document, source, bootstrap_sha256, updated_at, refresh_after)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      trustDomain,
      bootstrap === undefined ? null : JSON.stringify(bundleDocumentOf(bootstrap.bundle)),
      bootstrap === undefined ? null : 'bootstrap',
      bootstrap?.sha256 ?? null,
      bootstrap === undefined ? null : new Date(now),
      new Date(now),
    ],
  );
}

/** Replaces the kept bundle (a newer fetched one, or the operator's new bootstrap bundle). */
export async function storeBundle(
  db: Queryable,
  trustDomain: string,
  change: {
    readonly bundle: SpiffeBundle;
    readonly source: 'bootstrap' | 'endpoint';
    /** Set for a bootstrap bundle; a fetched bundle keeps the row's fingerprint. */
    readonly bootstrapSha256?: string;
    readonly now: number;
    readonly refreshAfter: number;
  },
): Promise<void> {
  const fetched = change.source === 'endpoint';
  await db.query(
    `UPDATE federated_bundles
        SET document = $2, sequence = $3, source = $4,
            bootstrap_sha256 = COALESCE($5, bootstrap_sha256), updated_at = $6,
            refresh_after = $7,
            failures = CASE WHEN $8 THEN 0 ELSE failures END,
            last_success_at = CASE WHEN $8 THEN $6 ELSE last_success_at END
      WHERE trust_domain = $1`,
    [
      trustDomain,
      JSON.stringify(bundleDocumentOf(change.bundle)),
      change.bundle.sequence ?? null,
      change.source,
      change.bootstrapSha256 ?? null,
      new Date(change.now),
      new Date(change.refreshAfter),
      fetched,
    ],
  );
}

/** A fetch that left the bundle as it was (the same one again). */
export async function recordUnchanged(
  db: Queryable,
  trustDomain: string,
  now: number,
  refreshAfter: number,
): Promise<void> {
  await db.query(
    `UPDATE federated_bundles SET failures = 0, last_success_at = $2, refresh_after = $3
      WHERE trust_domain = $1`,
    [trustDomain, new Date(now), new Date(refreshAfter)],
  );
}

/** A failed or refused fetch: the bundle stays; the reason is kept for operators. */
export async function recordFailure(
  db: Queryable,
  trustDomain: string,
  failure: { code: string; now: number; refreshAfter: number },
): Promise<void> {
  await db.query(
    `UPDATE federated_bundles
        SET failures = failures + 1, last_error_at = $2, last_error = $3, refresh_after = $4
      WHERE trust_domain = $1`,
    [trustDomain, new Date(failure.now), failure.code, new Date(failure.refreshAfter)],
  );
}

/** The policy no longer federates with the trust domain: its bundle is forgotten (§6.3). */
export async function deleteRelationship(db: Queryable, trustDomain: string): Promise<void> {
  await db.query('DELETE FROM federated_bundles WHERE trust_domain = $1', [trustDomain]);
}
